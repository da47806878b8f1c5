//! `tierline people set|list|erasures` and `tierline erase --person`: the people
//! directory, and erasure (docs/operations.md "People and erasure").

use anyhow::{Context, Result, bail};
use tierline_clock::Clock;
use tierline_events::Codec;
use tierline_people::People;

use crate::args::StoreArgs;

/// What `people` takes.
#[derive(clap::Args, Debug)]
pub(crate) struct PeopleArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    secrets: tierline_people::SecretsArgs,
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand, Debug)]
enum Action {
    /// Adds a person (with their key) or changes their name and contact.
    Set {
        /// The id events name them by (1..128 characters).
        person: String,
        /// Their name.
        #[arg(long)]
        name: Option<String>,
        /// How to reach them (e-mail, phone).
        #[arg(long)]
        contact: Option<String>,
    },
    /// Every entry: id, name, contact, since when.
    List,
    /// Every erasure: who, when, by whom.
    Erasures,
}

/// What `erase` takes.
#[derive(clap::Args, Debug)]
pub(crate) struct EraseArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The person to erase (their id in the directory and in events).
    #[arg(long)]
    person: String,
    /// Who erases (recorded in the erasure log).
    #[arg(long, env = "TIERLINE_OPERATOR")]
    by: String,
}

fn now() -> tierline_events::Timestamp {
    tierline_clock::SystemClock.now()
}

pub(crate) async fn people(codec: Codec, args: PeopleArgs) -> Result<()> {
    let store = args.store.open(codec).await?;
    let master = args.secrets.load().context("the secrets key")?;
    let people = People::new(store, master);
    match args.action {
        Action::Set {
            person,
            name,
            contact,
        } => {
            let len = person.chars().count();
            if !(1..=128).contains(&len) || person.contains(char::is_control) {
                bail!("a person id is 1..128 characters without control characters");
            }
            people
                .set(&person, name.as_deref(), contact.as_deref(), now())
                .await?;
            println!("{person}: set");
        }
        Action::List => {
            for p in people.list().await? {
                println!(
                    "{}\t{}\t{}\t{}",
                    p.person_id,
                    p.name.as_deref().unwrap_or("-"),
                    p.contact.as_deref().unwrap_or("-"),
                    p.created_at
                );
            }
        }
        Action::Erasures => {
            for e in people.erasures().await? {
                let entry = if e.had_entry {
                    "entry deleted"
                } else {
                    "no entry"
                };
                println!(
                    "{}\t{}\tby {}\t{entry}",
                    e.person_id,
                    tierline_events::Timestamp(e.erased_at),
                    e.erased_by
                );
            }
        }
    }
    Ok(())
}

pub(crate) async fn erase(codec: Codec, args: EraseArgs) -> Result<()> {
    if args.by.trim().is_empty() {
        bail!("say who erases: --by NAME (or TIERLINE_OPERATOR)");
    }
    let store = args.store.open(codec).await?;
    // Erasure needs no key: it deletes the entry, key and all.
    let people = People::new(store, None);
    let had = people.erase(&args.person, &args.by, now()).await?;
    if had {
        println!(
            "{}: erased (name, contact and key deleted; their free text now reads {}); logged as by {}",
            args.person,
            tierline_people::ERASED,
            args.by
        );
    } else {
        println!(
            "{}: no entry in the directory (nothing to delete); the request is logged as by {}",
            args.person, args.by
        );
    }
    Ok(())
}
