//! Entity names and their random streams: the one place that spells how a client, a
//! replica, a link, a call site (the home of a guard), a fault's unit and a balancer are
//! named.
//!
//! A name is what messages and the policy log show (`api[2]`, `web->api`, `api[0]->db#1`)
//! and, behind its namespace's number, the key of the entity's random stream ([`StreamId`]).
//! Both are part of the determinism contract: changing a namespace's number or the spelling
//! of a name changes that entity's draws, hence every result. The golden files would show it;
//! the pinned stream numbers in this file's tests fail first.

use crate::engine::StreamId;
use std::fmt;

/// The namespaces of stream names, hashed (as four little-endian bytes) in front of each
/// name, so that a client and a replica with the same name draw from different streams. The
/// numbers are part of the determinism contract: changing one changes every result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
enum Namespace {
    /// A client's arrivals or think times.
    Client = 1,
    /// A service replica's service times and error draws.
    Replica = 2,
    /// A network link's latency (and loss) draws.
    Link = 3,
    /// A load balancer's choices.
    Balancer = 4,
    /// A fault's draws.
    Fault = 5,
    /// A call site's policy draws (jitter, hedging).
    Policy = 6,
    /// A queue's draws (which messages are poison).
    Queue = 7,
}

/// An entity's name, in the namespace of its stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Name {
    space: Namespace,
    text: String,
}

impl Name {
    /// The name as shown: `api[2]`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The name as shown, owned.
    pub fn into_string(self) -> String {
        self.text
    }

    /// The entity's random stream: FNV-1a over the namespace's number, then the name.
    pub fn stream(&self) -> StreamId {
        StreamId::from_parts(&[&(self.space as u32).to_le_bytes(), self.text.as_bytes()])
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Queue `name`, named as the scenario declares it: `jobs`.
pub fn queue(name: &str) -> Name {
    Name {
        space: Namespace::Queue,
        text: name.to_string(),
    }
}

/// Client `name`, named as the scenario declares it: `web`.
pub fn client(name: &str) -> Name {
    Name {
        space: Namespace::Client,
        text: name.to_string(),
    }
}

/// The request keys of client `name` (for consistent hashing): `web#keys`.
pub fn client_keys(name: &str) -> Name {
    Name {
        space: Namespace::Client,
        text: format!("{name}#keys"),
    }
}

/// Replica `index` (counted within its service) of service `service`: `api[2]`.
pub fn replica(service: &str, index: u32) -> Name {
    Name {
        space: Namespace::Replica,
        text: format!("{service}[{index}]"),
    }
}

/// The link (hop) from caller `from` (a client or service) to service `to`: `web->api`.
pub fn link(from: &str, to: &str) -> Name {
    Name {
        space: Namespace::Link,
        text: format!("{from}->{to}"),
    }
}

/// The call site of client `client` calling service `target`, whose guard holds its
/// policies: `web->api`.
pub fn client_site(client: &str, target: &str) -> Name {
    Name {
        space: Namespace::Policy,
        text: format!("{client}->{target}"),
    }
}

/// The call site of replica `replica` of service `service` calling service `target`:
/// `api[0]->db`, or `api[0]->db#1` with `entry = Some(1)` when the service has more than one
/// call entry to that target and entry 1 has its own guard.
pub fn call_site(service: &str, replica: u32, target: &str, entry: Option<usize>) -> Name {
    let caller = self::replica(service, replica).text;
    let text = match entry {
        Some(k) => format!("{caller}->{target}#{k}"),
        None => format!("{caller}->{target}"),
    };
    Name {
        space: Namespace::Policy,
        text,
    }
}

/// The unit of a link fault (it has one, the link).
pub const FAULT_LINK_UNIT: &str = "link";
/// The unit of a partition (it has one, the partition).
pub const FAULT_PARTITION_UNIT: &str = "partition";
/// The stream a chaos monkey picks its victims with.
pub const FAULT_PICKER_UNIT: &str = "picker";

/// The unit `unit` of fault `fault`: a replica's name (`crash:api[1]`) or one of the
/// `FAULT_*_UNIT` names (`cut:link`).
pub fn fault_unit(fault: &str, unit: &str) -> Name {
    Name {
        space: Namespace::Fault,
        text: format!("{fault}:{unit}"),
    }
}

/// The load balancer of client `client` for its `target`: `web->api`.
pub fn client_balancer(client: &str, target: &str) -> Name {
    Name {
        space: Namespace::Balancer,
        text: format!("{client}->{target}"),
    }
}

/// The load balancer of replica `index` of `service` for its calls to `target`:
/// `api[0]->db`.
pub fn call_balancer(service: &str, index: u32, target: &str) -> Name {
    Name {
        space: Namespace::Balancer,
        text: format!("{service}[{index}]->{target}"),
    }
}

/// The balancer of `target` shared by its callers (`scope = "shared"`): `db`.
pub fn shared_balancer(target: &str) -> Name {
    Name {
        space: Namespace::Balancer,
        text: target.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stream numbers every result depends on, computed before this module existed
    /// (with the engine's former `StreamId::named(StreamKind, name)`): if one of these
    /// fails, every golden file changes too.
    #[test]
    fn stream_numbers_are_pinned() {
        let pins: [(Name, &str, u64); 8] = [
            (client("web"), "web", 17_597_260_878_300_321_042),
            (replica("api", 0), "api[0]", 14_325_757_609_428_958_417),
            (link("web", "api"), "web->api", 8_276_772_779_107_907_337),
            (link("api", "db"), "api->db", 11_528_133_328_764_833_167),
            (
                client_site("web", "api"),
                "web->api",
                11_311_313_757_636_711_100,
            ),
            (
                call_site("api", 0, "db", Some(1)),
                "api[0]->db#1",
                904_960_585_129_518_968,
            ),
            (
                fault_unit("crash", "api[1]"),
                "crash:api[1]",
                4_185_463_043_232_293_192,
            ),
            (
                fault_unit("cut", FAULT_LINK_UNIT),
                "cut:link",
                13_006_143_429_327_780_598,
            ),
        ];
        for (name, text, number) in pins {
            assert_eq!(name.as_str(), text);
            assert_eq!(
                name.stream().number(),
                number,
                "the stream of {name} changed"
            );
        }
        assert_eq!(
            shared_balancer("api").stream().number(),
            7_875_346_506_147_776_107
        );
    }

    #[test]
    fn same_text_in_two_namespaces_is_two_streams() {
        assert_eq!(
            link("web", "api").as_str(),
            client_site("web", "api").as_str()
        );
        assert_ne!(
            link("web", "api").stream(),
            client_site("web", "api").stream()
        );
        assert_eq!(call_site("api", 3, "db", None).as_str(), "api[3]->db");
    }
}
