//! The long-running services as the binary wires them: ingest, projector, relay and
//! the API, each alone or all together, and what they share (store, policy, clock).

use anyhow::{Context, Result, bail};
use std::path::PathBuf;
use tierline_events::Codec;
use tierline_store::Store;

use crate::{ApiArgs, ProjectArgs, open_store, ops};

pub(crate) async fn ingest(
    codec: Codec,
    url: String,
    mut config: tierline_ingest::IngestConfig,
    limits: tierline_http::HttpLimits,
) -> Result<()> {
    config.http_limits = limits;
    tracing::info!(store = %tierline_store::redact(&url), kafka = ?config.kafka, "starting ingest");
    let store = open_store(codec.clone(), &url).await?;
    let mut service =
        tierline_ingest::Ingest::start(config, codec, std::sync::Arc::new(store)).await?;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing SIGTERM handler")?;
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: stopping"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: stopping"),
        _ = wait_finished(&service) => tracing::error!("the consumer stopped on its own"),
    }
    service.request_stop();
    service
        .join()
        .await
        .context("ingest did not stop cleanly")?;
    tracing::info!("ingest stopped; offsets are stored");
    Ok(())
}

/// Runs services side by side: all stop on SIGTERM/SIGINT; if one fails, the process
/// reports it and exits (the orchestrator restarts it).
pub(crate) async fn run_all(tasks: Vec<(&str, tokio::task::JoinHandle<Result<()>>)>) -> Result<()> {
    let names: Vec<&str> = tasks.iter().map(|(n, _)| *n).collect();
    tracing::info!(services = ?names, "running");
    let mut handles: Vec<_> = tasks.into_iter().map(|(_, h)| h).collect();
    while !handles.is_empty() {
        let (result, k, rest) = futures_util::future::select_all(handles).await;
        let name = names.get(k).copied().unwrap_or("service");
        match result {
            Ok(Ok(())) => tracing::info!(service = name, "stopped"),
            Ok(Err(e)) => return Err(e.context(format!("{name} failed"))),
            Err(e) => return Err(anyhow::anyhow!("{name} panicked: {e}")),
        }
        handles = rest;
    }
    Ok(())
}

pub(crate) fn api_keys(args: &ApiArgs) -> Result<tierline_api::ApiKeys> {
    if args.no_auth {
        tracing::warn!("--no-auth: /v1 is open to anyone who can reach it");
        return Ok(tierline_api::ApiKeys::disabled());
    }
    let mut keys = tierline_api::ApiKeys::from_hashes(
        args.api_key_hashes
            .iter()
            .map(String::as_str)
            .filter(|h| !h.trim().is_empty()),
    )
    .context("--api-key-hashes")?;
    if let Some(path) = &args.api_keys_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading API keys file {}", path.display()))?;
        keys.extend(tierline_api::ApiKeys::from_keys(text.lines()));
    }
    if keys.is_empty() {
        bail!(
            "no API key configured: give --api-key-hashes (TIERLINE_API_KEY_HASHES) or \
             --api-keys-file (TIERLINE_API_KEYS_FILE), or --no-auth for local use"
        );
    }
    tracing::info!(keys = keys.len(), "API keys loaded");
    Ok(keys)
}

pub(crate) async fn serve(
    codec: Codec,
    project: &ProjectArgs,
    args: ApiArgs,
    limits: tierline_http::HttpLimits,
) -> Result<()> {
    let keys = api_keys(&args)?;
    let store = postgres(codec.clone(), &project.store).await?;
    tierline_projector::migrate(store.pool())
        .await
        .context("creating the projection tables")?;
    let policy = std::sync::Arc::new(load_policy(project.policy.as_ref())?);
    let clock: std::sync::Arc<dyn tierline_projector::Clock> =
        std::sync::Arc::from(clock(project.pin_date.as_deref())?);
    let mut config = tierline_api::ApiConfig::new(keys);
    config.request_timeout = std::time::Duration::from_millis(args.timeout_ms);
    config.max_page_size = args.max_page_size;
    config.cache = !args.no_cache;
    config.cache_max_bytes = args.cache_max_bytes;
    let reader = tierline_api::Reader::new(store, policy, codec);
    let (router, _) = tierline_api::app(reader, clock, &config, Default::default());
    let listener = tokio::net::TcpListener::bind(args.api_http)
        .await
        .with_context(|| format!("binding {}", args.api_http))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "API on http://{addr}/v1, dashboard on http://{addr}/");
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tierline_api::serve(listener, router, limits, async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        tracing::info!("stopping the API");
    })
    .await
    .context("serving the API")?;
    Ok(())
}

pub(crate) fn load_policy(path: Option<&PathBuf>) -> Result<tierline_scoring::Policy> {
    match path {
        None => Ok(tierline_scoring::Policy::default()),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("reading policy {}", p.display()))?;
            tierline_scoring::Policy::from_toml(&text)
                .with_context(|| format!("policy {}", p.display()))
        }
    }
}

pub(crate) fn clock(pin: Option<&str>) -> Result<Box<dyn tierline_projector::Clock>> {
    match pin {
        None => Ok(Box::new(tierline_projector::SystemClock)),
        Some(d) => {
            let t = tierline_events::Timestamp::parse_rfc3339(&format!("{d}T12:00:00Z"))
                .with_context(|| format!("--pin-date {d} is not YYYY-MM-DD"))?;
            Ok(Box::new(tierline_projector::FixedClock(t)))
        }
    }
}

pub(crate) async fn postgres(codec: Codec, url: &str) -> Result<tierline_store::PgStore> {
    match open_store(codec, url).await? {
        Store::Postgres(pg) => Ok(pg),
        Store::Sqlite(_) => {
            bail!("the projector and relay need a PostgreSQL store (--store postgres://…) for now")
        }
    }
}

pub(crate) async fn projector(
    codec: Codec,
    args: &ProjectArgs,
    store: tierline_store::PgStore,
) -> Result<tierline_projector::Projector> {
    let policy = std::sync::Arc::new(load_policy(args.policy.as_ref())?);
    tracing::info!(version = %policy.version, "scoring policy");
    Ok(tierline_projector::Projector::open(store, codec, policy, "main").await?)
}

pub(crate) async fn project(
    codec: Codec,
    args: ProjectArgs,
    batch: usize,
    http: std::net::SocketAddr,
    limits: tierline_http::HttpLimits,
) -> Result<()> {
    let store = postgres(codec.clone(), &args.store).await?;
    let pool = store.pool().clone();
    let mut p = projector(codec, &args, store).await?;
    ops::serve(http, p.metrics(), pool, limits).await?;
    let clock = clock(args.pin_date.as_deref())?;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        let n = match p.step(clock.as_ref(), batch).await {
            Ok(n) => n,
            Err(e) if e.is_transient() => {
                tracing::warn!(error = %e, "store unavailable; retrying");
                0
            }
            Err(e) => return Err(e.into()),
        };
        if n > 0 {
            tracing::debug!(events = n, cursor = %p.cursor(), "projected");
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_millis(200)) => {}
            _ = term.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    tracing::info!(cursor = %p.cursor(), "projector stopped");
    Ok(())
}

pub(crate) async fn rebuild(codec: Codec, args: ProjectArgs) -> Result<()> {
    let store = postgres(codec.clone(), &args.store).await?;
    let mut p = projector(codec, &args, store).await?;
    let clock = clock(args.pin_date.as_deref())?;
    let start = std::time::Instant::now();
    let n = p.rebuild(clock.as_ref()).await?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "rebuilt {n} events of {} suppliers in {secs:.1} s ({:.0} events/s)",
        p.suppliers(),
        n as f64 / secs.max(1e-9)
    );
    Ok(())
}

pub(crate) async fn relay(
    codec: Codec,
    url: &str,
    kafka: &tierline_kafka::KafkaArgs,
    topic: &str,
    http: std::net::SocketAddr,
    limits: tierline_http::HttpLimits,
) -> Result<()> {
    let store = postgres(codec, url).await?;
    tierline_projector::migrate(store.pool())
        .await
        .context("creating the outbox")?;
    let relay =
        tierline_projector::Relay::new(store.pool().clone(), kafka.client_config()?, topic)?;
    ops::serve(http, relay.metrics(), store.pool().clone(), limits).await?;
    tracing::info!(topic, kafka = ?kafka, "relay publishing the outbox");
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        match relay.publish_pending(500).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "publishing failed; retrying"),
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_millis(200)) => {}
            _ = term.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    Ok(())
}

pub(crate) async fn wait_finished(service: &tierline_ingest::Ingest) {
    while !service.is_finished() {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
