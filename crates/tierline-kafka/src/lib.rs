//! Kafka client configuration shared by every Tierline service: brokers, SASL
//! (PLAIN, SCRAM-SHA-256/512) and TLS, with secrets read from the environment or
//! from files and never logged.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use rdkafka::ClientConfig;

/// Errors building a client configuration.
#[derive(Debug, thiserror::Error)]
pub enum KafkaConfigError {
    /// A secret file could not be read.
    #[error("cannot read {what} from {path}: {source}")]
    SecretFile {
        /// Which secret.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// SASL was chosen without a user name or password.
    #[error(
        "security protocol {0} needs --kafka-sasl-username and a password (--kafka-sasl-password or --kafka-sasl-password-file)"
    )]
    MissingCredentials(&'static str),
    /// A `--kafka-option` is not `key=value`.
    #[error("--kafka-option `{0}` is not key=value")]
    BadOption(String),
}

/// How the client talks to the brokers (librdkafka `security.protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SecurityProtocol {
    /// No TLS, no SASL.
    Plaintext,
    /// TLS.
    Ssl,
    /// SASL without TLS.
    SaslPlaintext,
    /// SASL over TLS.
    SaslSsl,
}

impl SecurityProtocol {
    fn as_str(self) -> &'static str {
        match self {
            SecurityProtocol::Plaintext => "plaintext",
            SecurityProtocol::Ssl => "ssl",
            SecurityProtocol::SaslPlaintext => "sasl_plaintext",
            SecurityProtocol::SaslSsl => "sasl_ssl",
        }
    }
}

/// SASL mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SaslMechanism {
    /// PLAIN.
    #[value(name = "PLAIN")]
    Plain,
    /// SCRAM-SHA-256.
    #[value(name = "SCRAM-SHA-256")]
    ScramSha256,
    /// SCRAM-SHA-512.
    #[value(name = "SCRAM-SHA-512")]
    ScramSha512,
}

impl SaslMechanism {
    fn as_str(self) -> &'static str {
        match self {
            SaslMechanism::Plain => "PLAIN",
            SaslMechanism::ScramSha256 => "SCRAM-SHA-256",
            SaslMechanism::ScramSha512 => "SCRAM-SHA-512",
        }
    }
}

/// Kafka connection flags (each also an environment variable).
#[derive(Clone, Args)]
pub struct KafkaArgs {
    /// Bootstrap brokers, `host:port[,host:port…]`.
    #[arg(
        long = "kafka-brokers",
        env = "KAFKA_BROKERS",
        default_value = "localhost:9092"
    )]
    pub brokers: String,
    /// `security.protocol`.
    #[arg(long = "kafka-security-protocol", env = "KAFKA_SECURITY_PROTOCOL", value_enum, default_value_t = SecurityProtocol::Plaintext)]
    pub security_protocol: SecurityProtocol,
    /// SASL mechanism.
    #[arg(long = "kafka-sasl-mechanism", env = "KAFKA_SASL_MECHANISM", value_enum, default_value_t = SaslMechanism::ScramSha512)]
    pub sasl_mechanism: SaslMechanism,
    /// SASL user name.
    #[arg(long = "kafka-sasl-username", env = "KAFKA_SASL_USERNAME")]
    pub sasl_username: Option<String>,
    /// SASL password (prefer the environment or a file over the command line).
    #[arg(
        long = "kafka-sasl-password",
        env = "KAFKA_SASL_PASSWORD",
        hide_env_values = true
    )]
    pub sasl_password: Option<String>,
    /// File holding the SASL password (e.g. a mounted Kubernetes secret).
    #[arg(long = "kafka-sasl-password-file", env = "KAFKA_SASL_PASSWORD_FILE")]
    pub sasl_password_file: Option<PathBuf>,
    /// CA certificate(s) to verify the brokers, PEM.
    #[arg(long = "kafka-ssl-ca-location", env = "KAFKA_SSL_CA_LOCATION")]
    pub ssl_ca_location: Option<PathBuf>,
    /// Client certificate for mutual TLS, PEM.
    #[arg(
        long = "kafka-ssl-certificate-location",
        env = "KAFKA_SSL_CERTIFICATE_LOCATION"
    )]
    pub ssl_certificate_location: Option<PathBuf>,
    /// Client private key for mutual TLS, PEM.
    #[arg(long = "kafka-ssl-key-location", env = "KAFKA_SSL_KEY_LOCATION")]
    pub ssl_key_location: Option<PathBuf>,
    /// Password of the client key.
    #[arg(
        long = "kafka-ssl-key-password",
        env = "KAFKA_SSL_KEY_PASSWORD",
        hide_env_values = true
    )]
    pub ssl_key_password: Option<String>,
    /// File holding the password of the client key.
    #[arg(
        long = "kafka-ssl-key-password-file",
        env = "KAFKA_SSL_KEY_PASSWORD_FILE"
    )]
    pub ssl_key_password_file: Option<PathBuf>,
    /// Any other librdkafka property, `key=value`; repeatable.
    #[arg(long = "kafka-option", value_name = "KEY=VALUE")]
    pub options: Vec<String>,
}

impl std::fmt::Debug for KafkaArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaArgs")
            .field("brokers", &self.brokers)
            .field("security_protocol", &self.security_protocol)
            .field("sasl_mechanism", &self.sasl_mechanism)
            .field("sasl_username", &self.sasl_username)
            .field("sasl_password", &self.sasl_password.as_ref().map(|_| "***"))
            .field("sasl_password_file", &self.sasl_password_file)
            .field("ssl_ca_location", &self.ssl_ca_location)
            .field(
                "ssl_key_password",
                &self.ssl_key_password.as_ref().map(|_| "***"),
            )
            .field(
                "options",
                &self
                    .options
                    .iter()
                    .map(|o| redact_option(o))
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// `key=value` with the value hidden when the key looks secret.
fn redact_option(option: &str) -> String {
    match option.split_once('=') {
        Some((k, _)) if k.contains("password") || k.contains("secret") || k.contains("key.pem") => {
            format!("{k}=***")
        }
        _ => option.to_owned(),
    }
}

fn secret(
    inline: &Option<String>,
    file: &Option<PathBuf>,
    what: &'static str,
) -> Result<Option<String>, KafkaConfigError> {
    if let Some(path) = file {
        let text =
            std::fs::read_to_string(path).map_err(|source| KafkaConfigError::SecretFile {
                what,
                path: path.clone(),
                source,
            })?;
        return Ok(Some(text.trim_end_matches(['\n', '\r']).to_owned()));
    }
    Ok(inline.clone())
}

impl KafkaArgs {
    /// Connection flags for these brokers and nothing else.
    pub fn plaintext(brokers: impl Into<String>) -> Self {
        KafkaArgs {
            brokers: brokers.into(),
            security_protocol: SecurityProtocol::Plaintext,
            sasl_mechanism: SaslMechanism::ScramSha512,
            sasl_username: None,
            sasl_password: None,
            sasl_password_file: None,
            ssl_ca_location: None,
            ssl_certificate_location: None,
            ssl_key_location: None,
            ssl_key_password: None,
            ssl_key_password_file: None,
            options: Vec::new(),
        }
    }

    /// The librdkafka configuration these flags describe.
    pub fn client_config(&self) -> Result<ClientConfig, KafkaConfigError> {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.brokers);
        c.set("security.protocol", self.security_protocol.as_str());
        if matches!(
            self.security_protocol,
            SecurityProtocol::SaslPlaintext | SecurityProtocol::SaslSsl
        ) {
            let user = self
                .sasl_username
                .clone()
                .ok_or(KafkaConfigError::MissingCredentials(
                    self.security_protocol.as_str(),
                ))?;
            let pass = secret(
                &self.sasl_password,
                &self.sasl_password_file,
                "the SASL password",
            )?
            .ok_or(KafkaConfigError::MissingCredentials(
                self.security_protocol.as_str(),
            ))?;
            c.set("sasl.mechanism", self.sasl_mechanism.as_str());
            c.set("sasl.username", user);
            c.set("sasl.password", pass);
        }
        if matches!(
            self.security_protocol,
            SecurityProtocol::Ssl | SecurityProtocol::SaslSsl
        ) {
            if let Some(p) = &self.ssl_ca_location {
                c.set("ssl.ca.location", p.display().to_string());
            }
            if let Some(p) = &self.ssl_certificate_location {
                c.set("ssl.certificate.location", p.display().to_string());
            }
            if let Some(p) = &self.ssl_key_location {
                c.set("ssl.key.location", p.display().to_string());
            }
            if let Some(pass) = secret(
                &self.ssl_key_password,
                &self.ssl_key_password_file,
                "the TLS key password",
            )? {
                c.set("ssl.key.password", pass);
            }
        }
        for o in &self.options {
            let (k, v) = o
                .split_once('=')
                .ok_or_else(|| KafkaConfigError::BadOption(redact_option(o)))?;
            c.set(k.trim(), v.trim());
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sasl_scram_over_tls_from_a_password_file() {
        let dir = std::env::temp_dir().join(format!("tierline-kafka-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("pw");
        std::fs::write(&file, "s3cret\n").unwrap();
        let mut args = KafkaArgs::plaintext("b1:9093,b2:9093");
        args.security_protocol = SecurityProtocol::SaslSsl;
        args.sasl_mechanism = SaslMechanism::ScramSha256;
        args.sasl_username = Some("tierline".into());
        args.sasl_password_file = Some(file);
        args.ssl_ca_location = Some("/etc/ssl/ca.pem".into());
        args.options = vec![
            "client.id=ingest-1".into(),
            "sasl.oauthbearer.client.secret=zzz".into(),
        ];
        let c = args.client_config().unwrap();
        assert_eq!(c.get("security.protocol"), Some("sasl_ssl"));
        assert_eq!(c.get("sasl.mechanism"), Some("SCRAM-SHA-256"));
        assert_eq!(c.get("sasl.password"), Some("s3cret"));
        assert_eq!(c.get("ssl.ca.location"), Some("/etc/ssl/ca.pem"));
        assert_eq!(c.get("client.id"), Some("ingest-1"));
        let shown = format!("{args:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("zzz"),
            "{shown}"
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn sasl_without_credentials_is_refused() {
        let mut args = KafkaArgs::plaintext("b:9092");
        args.security_protocol = SecurityProtocol::SaslPlaintext;
        assert!(matches!(
            args.client_config(),
            Err(KafkaConfigError::MissingCredentials(_))
        ));
        let mut args = KafkaArgs::plaintext("b:9092");
        args.options = vec!["nonsense".into()];
        assert!(matches!(
            args.client_config(),
            Err(KafkaConfigError::BadOption(_))
        ));
    }
}
