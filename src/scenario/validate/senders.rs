//! Who sends to each service, gathered once: the checks that ask it of many services would
//! otherwise each look through every call of the scenario.

use crate::scenario::{ClientSpec, Dest, Endpoint, ServiceSpec};

/// For each service, the clients whose `target` it is, then the services that call it (each
/// once, however many of its entries do), in file order.
pub(super) struct Senders(Vec<Vec<Endpoint>>);

impl Senders {
    pub(super) fn new(clients: &[ClientSpec], services: &[ServiceSpec]) -> Self {
        let mut of: Vec<Vec<Endpoint>> = vec![Vec::new(); services.len()];
        for (k, c) in clients.iter().enumerate() {
            if let Dest::Service(s) = c.target
                && let Some(list) = of.get_mut(s)
            {
                list.push(Endpoint::Client(k));
            }
        }
        for (k, s) in services.iter().enumerate() {
            for c in &s.calls {
                if let Dest::Service(to) = c.to
                    && let Some(list) = of.get_mut(to)
                    && list.last() != Some(&Endpoint::Service(k))
                {
                    list.push(Endpoint::Service(k));
                }
            }
        }
        Senders(of)
    }

    /// The clients and services that send to service `i`.
    pub(super) fn of(&self, i: usize) -> &[Endpoint] {
        self.0.get(i).map_or(&[], Vec::as_slice)
    }
}

/// The name of a client or service.
pub(super) fn name<'a>(
    e: Endpoint,
    clients: &'a [ClientSpec],
    services: &'a [ServiceSpec],
) -> &'a str {
    match e {
        Endpoint::Client(c) => &clients[c].name,
        Endpoint::Service(s) => &services[s].name,
    }
}
