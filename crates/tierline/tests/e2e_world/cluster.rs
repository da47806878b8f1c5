//! Three Apache Kafka nodes, each a combined broker and controller of one KRaft quorum
//! (replication factor 3, `min.insync.replicas` 2), for the scenarios that lose a node.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};

use super::{Proc, until};
use crate::common::free_port;

/// One node: its broker port and its process.
pub(crate) struct Node {
    pub(crate) id: i32,
    pub(crate) port: u16,
    pub(crate) proc: Proc,
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/kafka")
}

/// Formats and starts three nodes under `dir`; returns them and the bootstrap list.
pub(crate) fn start_cluster(dir: &Path) -> (Vec<Node>, String) {
    let ports: Vec<(u16, u16)> = (0..3).map(|_| (free_port(), free_port())).collect();
    let voters: Vec<String> = ports
        .iter()
        .enumerate()
        .map(|(i, (_, c))| format!("{}@127.0.0.1:{c}", i + 1))
        .collect();
    let id = cluster_id();
    let mut nodes = Vec::new();
    for (i, (port, cport)) in ports.iter().enumerate() {
        let node_dir = dir.join(format!("kafka-{}", i + 1));
        std::fs::create_dir_all(&node_dir).unwrap();
        let props = node_dir.join("server.properties");
        std::fs::write(
            &props,
            format!(
                "process.roles=broker,controller\nnode.id={}\ncontroller.quorum.voters={}\n\
                 listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}\n\
                 advertised.listeners=PLAINTEXT://127.0.0.1:{port}\n\
                 controller.listener.names=CONTROLLER\n\
                 listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT\n\
                 log.dirs={}\n\
                 offsets.topic.replication.factor=3\ntransaction.state.log.replication.factor=3\n\
                 transaction.state.log.min.isr=2\ndefault.replication.factor=3\nmin.insync.replicas=2\n\
                 group.initial.rebalance.delay.ms=0\n",
                i + 1,
                voters.join(","),
                node_dir.join("data").display()
            ),
        )
        .unwrap();
        let mut proc = Proc {
            name: format!("kafka-{}", i + 1),
            cmd: vec![
                "bash".into(),
                script().to_str().unwrap().to_owned(),
                "run".into(),
                props.to_str().unwrap().to_owned(),
                id.clone(),
            ],
            envs: vec![("TIERLINE_KAFKA_HEAP".into(), "384m".into())],
            cwd: Some(node_dir),
            child: None,
        };
        proc.spawn();
        nodes.push(Node {
            id: i as i32 + 1,
            port: *port,
            proc,
        });
    }
    let brokers = ports
        .iter()
        .map(|(p, _)| format!("127.0.0.1:{p}"))
        .collect::<Vec<_>>()
        .join(",");
    wait_cluster(&brokers, 3);
    (nodes, brokers)
}

/// A KRaft cluster id (`StorageTool random-uuid`).
fn cluster_id() -> String {
    let out = Command::new("bash")
        .arg(script())
        .arg("random-uuid")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Waits until `n` brokers are in the cluster's metadata.
pub(crate) fn wait_cluster(brokers: &str, n: usize) {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    until(&format!("{n} brokers in the cluster"), 120, || {
        c.fetch_metadata(None, Duration::from_secs(2))
            .ok()
            .filter(|m| m.brokers().len() >= n)
    });
}

/// The node leading partition 0 of `topic` now.
pub(crate) fn leader_of(brokers: &str, topic: &str) -> i32 {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    until(&format!("a leader of {topic}"), 60, || {
        let m = c.fetch_metadata(Some(topic), Duration::from_secs(2)).ok()?;
        let p = m.topics().first()?.partitions().first()?;
        (p.leader() > 0).then_some(p.leader())
    })
}

/// Every partition of `topic` has `isr` in-sync replicas again.
pub(crate) fn wait_in_sync(brokers: &str, topic: &str, isr: usize) {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    until(&format!("{topic} fully in sync"), 120, || {
        let m = c.fetch_metadata(Some(topic), Duration::from_secs(2)).ok()?;
        let t = m.topics().first()?;
        t.partitions()
            .iter()
            .all(|p| p.isr().len() >= isr && p.leader() > 0)
            .then_some(())
    });
}
