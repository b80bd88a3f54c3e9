//! The contract's own rules: the four services with their RPCs exist, and every
//! message, field, enum, value, service and RPC of callcenter.v1 carries a comment.
#![allow(clippy::unwrap_used)] // tests and benchmarks may unwrap

use prost::Message;
use prost_types::FileDescriptorSet;

fn set() -> FileDescriptorSet {
    FileDescriptorSet::decode(hotline_proto::FILE_DESCRIPTOR_SET).unwrap()
}

#[test]
fn the_four_services_and_their_rpcs_are_there() {
    let fds = set();
    let methods = |svc: &str| -> Vec<String> {
        fds.file
            .iter()
            .flat_map(|f| &f.service)
            .find(|s| s.name() == svc)
            .unwrap_or_else(|| panic!("no service {svc}"))
            .method
            .iter()
            .map(|m| m.name().to_string())
            .collect()
    };
    assert_eq!(methods("AgentService"), ["Login", "Session"]);
    assert_eq!(methods("CallerService"), ["Call"]);
    assert_eq!(
        methods("SupervisorService"),
        [
            "WatchStats",
            "ListAgents",
            "ForceNotReady",
            "ForceLogout",
            "UpdateQueue",
            "ListAuditTrail",
            "ListAlarmRules",
            "SetAlarmRules",
            "ListAlarms",
            "DeclareIncident",
            "UpdateIncident",
            "EndIncident",
            "ListIncidents"
        ]
    );
    assert_eq!(
        methods("CrmService"),
        [
            "GetCustomer",
            "FindCustomerByPhone",
            "SearchCustomers",
            "PutCustomer",
            "ListInteractions",
            "GetInteraction",
            "CreateTicket",
            "UpdateTicket",
            "GetTicket",
            "ListTickets",
            "WatchTickets"
        ]
    );
    assert!(
        fds.file
            .iter()
            .all(|f| !f.name().starts_with("callcenter") || f.package() == "callcenter.v1")
    );
}

#[test]
fn every_element_of_the_contract_is_documented() {
    let mut undocumented = Vec::new();
    for f in set()
        .file
        .iter()
        .filter(|f| f.name().starts_with("callcenter/v1/"))
    {
        let info = f
            .source_code_info
            .as_ref()
            .expect("protox keeps source info");
        let commented = |path: &[i32]| {
            info.location
                .iter()
                .any(|l| l.path == path && !l.leading_comments().trim().is_empty())
        };
        // descriptor field numbers: message_type 4 (field 2, nested 3, enum 4),
        // enum_type 5 (value 2), service 6 (method 2)
        for (i, m) in f.message_type.iter().enumerate() {
            let p = vec![4, i as i32];
            if !commented(&p) {
                undocumented.push(format!("{}: message {}", f.name(), m.name()));
            }
            for (j, field) in m.field.iter().enumerate() {
                if !commented(&[4, i as i32, 2, j as i32]) {
                    undocumented.push(format!("{}: {}.{}", f.name(), m.name(), field.name()));
                }
            }
        }
        for (i, e) in f.enum_type.iter().enumerate() {
            if !commented(&[5, i as i32]) {
                undocumented.push(format!("{}: enum {}", f.name(), e.name()));
            }
            for (j, v) in e.value.iter().enumerate() {
                if !commented(&[5, i as i32, 2, j as i32]) {
                    undocumented.push(format!("{}: {}", f.name(), v.name()));
                }
            }
        }
        for (i, s) in f.service.iter().enumerate() {
            if !commented(&[6, i as i32]) {
                undocumented.push(format!("{}: service {}", f.name(), s.name()));
            }
            for (j, m) in s.method.iter().enumerate() {
                if !commented(&[6, i as i32, 2, j as i32]) {
                    undocumented.push(format!("{}: rpc {}.{}", f.name(), s.name(), m.name()));
                }
            }
        }
    }
    assert!(
        undocumented.is_empty(),
        "undocumented:\n{}",
        undocumented.join("\n")
    );
}

#[test]
fn generated_types_round_trip() {
    use hotline_proto::v1::*;
    let cmd = AgentCommand {
        command_id: 7,
        command: Some(agent_command::Command::TransferToQueue("complaint".into())),
        call_id: 42,
    };
    let back = AgentCommand::decode(cmd.encode_to_vec().as_slice()).unwrap();
    assert_eq!(back, cmd);
}
