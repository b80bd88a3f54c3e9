//! The codes the running system gives calls are the catalogue's (统一编码): every reason
//! a queue node of the shipped IVR flow records is a reason group that leads to that
//! same queue, and every wrap-up reason and disposition the seeder writes is a code.
#![allow(clippy::unwrap_used)] // tests and benchmarks may unwrap

use hotline_ivr::NodeKind;
use hotline_store::{Codes, seed};

#[test]
fn the_shipped_flow_records_catalogued_reason_groups_for_their_queues() {
    let codes = Codes::builtin();
    let queues = [
        "inquiry",
        "fault",
        "complaint",
        "new-service",
        "green-channel",
    ];
    let flow = hotline_ivr::Flow::parse("1000.toml", hotline_ivr::BUILTIN_1000, &queues).unwrap();
    let mut seen = 0;
    for node in &flow.file().nodes {
        if let NodeKind::Queue { queue, reason, .. } = &node.kind {
            let group = codes
                .group(reason)
                .unwrap_or_else(|| panic!("node {}: reason '{reason}' is not a group", node.id));
            assert_eq!(&group.queue, queue, "node {}", node.id);
            seen += 1;
        }
    }
    assert!(seen >= 6, "{seen} queue nodes");
}

#[test]
fn the_seeders_records_carry_catalogued_codes() {
    let codes = Codes::builtin();
    let store = hotline_store::Store::temporary(hotline_store::Catalog::builtin()).unwrap();
    seed::seed(&store, 300, 1, seed::DEFAULT_NOW, &mut |_| {}).unwrap();
    let all = store.interactions_between(0, u64::MAX, 10_000).unwrap();
    assert!(all.len() > 100);
    for i in all {
        if let Some(r) = &i.reason {
            codes.check_reason(r).unwrap();
        }
        if let Some(d) = &i.disposition {
            codes.check_disposition(d).unwrap();
        }
    }
}
