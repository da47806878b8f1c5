//! `tierline serve`: the read API and the dashboard.

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use tierline_events::Codec;
use tokio::sync::watch;

use crate::args::{ApiArgs, ClockArgs, PolicyArgs};

/// The API keys from the flags (digests, a keys file, or none with `--no-auth`).
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
        keys.extend(
            tierline_api::ApiKeys::from_file(&text)
                .with_context(|| format!("API keys file {}", path.display()))?,
        );
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

/// Serves the API until `stop`.
pub(crate) async fn serve(
    codec: Codec,
    store: tierline_store::Store,
    policy: &PolicyArgs,
    clock: &ClockArgs,
    args: &ApiArgs,
    limits: tierline_http::HttpLimits,
    mut stop: watch::Receiver<bool>,
) -> Result<()> {
    let keys = api_keys(args)?;
    let mut config = tierline_api::ApiConfig::new(keys);
    config.request_timeout = std::time::Duration::from_millis(args.timeout_ms);
    config.max_page_size = args.max_page_size;
    config.cache = !args.no_cache;
    config.cache_max_bytes = args.cache_max_bytes;
    config.secrets_key = args.secrets.load().context("the secrets key")?;
    if config.secrets_key.is_none() {
        tracing::warn!(
            "no secrets key (--secrets-key-file): the people directory's keys are stored unwrapped"
        );
    }
    let reader = tierline_api::Reader::new(store, policy.load()?, codec);
    let (router, _) = tierline_api::app(reader, clock.clock()?, &config, Arc::default());
    let listener = tokio::net::TcpListener::bind(args.api_http)
        .await
        .with_context(|| format!("binding {}", args.api_http))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "API on http://{addr}/v1, dashboard on http://{addr}/");
    tierline_api::serve(listener, router, limits, async move {
        let _ = stop.wait_for(|s| *s).await;
        tracing::info!("stopping the API");
    })
    .await
    .context("serving the API")?;
    Ok(())
}
