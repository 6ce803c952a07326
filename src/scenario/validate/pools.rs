//! A service's `pools`: its workers partitioned by caller.

use super::Checker;
use super::senders::{self, Senders};
use super::topology::Names;
use crate::scenario::diagnostic::name_list;
use crate::scenario::file::ServiceFile;
use crate::scenario::{ClientSpec, Endpoint, PoolSpec, ServiceSpec};
use std::collections::BTreeSet;
use toml::Spanned;

/// The most pools a service may have.
const MAX_POOLS: usize = 16;

impl Checker<'_> {
    /// The pools of service `f` (empty without `pools`), the one for every other caller
    /// first; `concurrency` is the service's own, which the pools must add up to if given,
    /// and `queue` the service's, which a pool without its own takes.
    pub(super) fn pools(
        &mut self,
        f: &ServiceFile,
        names: &Names,
        concurrency: u32,
        queue: Option<u32>,
    ) -> Vec<PoolSpec> {
        let Some(list) = &f.pools else {
            return Vec::new();
        };
        if list.get_ref().is_empty() || list.get_ref().len() > MAX_POOLS {
            self.error(
                list.span(),
                format!(
                    "`pools` has {} pools; expected 1 to {MAX_POOLS}",
                    list.get_ref().len()
                ),
            );
            return Vec::new();
        }
        let mut rest = None;
        let mut pools: Vec<PoolSpec> = Vec::new();
        // The callers of the pools so far.
        let mut in_pools: BTreeSet<Endpoint> = BTreeSet::new();
        for p in list.get_ref() {
            let file = p.get_ref();
            let Some(c) = self.required(
                &file.concurrency,
                &p.span(),
                "concurrency",
                "this pool",
                "its workers per replica, like `concurrency = 8`",
            ) else {
                continue;
            };
            let concurrency = self.count(c, "concurrency", 1, 1_000_000);
            let queue = match &file.queue {
                Some(q) => self.queue_size(q),
                None => queue,
            };
            let callers: Vec<Endpoint> = match &file.callers {
                None => {
                    if rest.is_some() {
                        self.error(p.span(), "two pools have no `callers`; expected one pool at most for every other caller");
                    }
                    rest = Some(pools.len());
                    Vec::new()
                }
                Some(list) if list.get_ref().is_empty() => {
                    self.error(list.span(), "`callers` is empty; expected the names of the clients or services this pool serves, or no `callers` for a pool of every other caller");
                    continue;
                }
                Some(list) => list
                    .get_ref()
                    .iter()
                    .filter_map(|n| self.endpoint(n, names, "a pool's `callers`"))
                    .collect(),
            };
            let mut this_pool = BTreeSet::new();
            for c in &callers {
                if !this_pool.insert(*c) || in_pools.contains(c) {
                    self.error(
                        p.span(),
                        "a caller is in two pools; expected each caller in one pool",
                    );
                    break;
                }
            }
            in_pools.extend(callers.iter().copied());
            pools.push(PoolSpec {
                callers,
                concurrency,
                queue,
            });
        }
        let total: u32 = pools.iter().map(|p| p.concurrency).sum();
        if let Some(c) = &f.concurrency
            && concurrency != total
        {
            self.error(c.span(), format!("`concurrency` is {concurrency}, but the pools have {total} workers; expected the pools' sum, or no `concurrency` beside `pools`"));
        }
        if let Some(r) = rest {
            let p = pools.remove(r);
            pools.insert(0, p);
        }
        pools
    }

    /// Every pool's callers send to its service, and without a pool for every other
    /// caller, every caller of the service is in a pool.
    pub(super) fn pool_callers(
        &mut self,
        files: &[Spanned<ServiceFile>],
        clients: &[ClientSpec],
        services: &[ServiceSpec],
        senders: &Senders,
    ) {
        for (i, (file, spec)) in files.iter().zip(services).enumerate() {
            let Some(list) = &file.get_ref().pools else {
                continue;
            };
            if spec.pools.is_empty() {
                continue;
            }
            let callers: Vec<(Endpoint, &str)> = senders
                .of(i)
                .iter()
                .map(|&e| (e, senders::name(e, clients, services)))
                .collect();
            let names: Vec<&str> = callers.iter().map(|(_, n)| *n).collect();
            let sending: BTreeSet<Endpoint> = callers.iter().map(|(e, _)| *e).collect();
            let pooled: BTreeSet<Endpoint> = spec
                .pools
                .iter()
                .flat_map(|p| p.callers.iter().copied())
                .collect();
            for pool in &spec.pools {
                for c in &pool.callers {
                    if !sending.contains(c) {
                        let name = senders::name(*c, clients, services);
                        let expected = if names.is_empty() {
                            format!(
                                "its callers, but no client or service sends to {} (a pool without `callers` serves every caller)",
                                spec.name
                            )
                        } else {
                            format!("its callers: {}", name_list(&names))
                        };
                        self.error(list.span(), format!("a pool of {} names {name}, which does not send to it; expected {expected}", spec.name));
                    }
                }
            }
            let has_rest = spec.pools[0].callers.is_empty();
            if !has_rest {
                for (e, name) in &callers {
                    if !pooled.contains(e) {
                        self.error(list.span(), format!("{name} sends to {} but is in none of its pools; expected it in a pool's `callers`, or a pool without `callers` for every other caller", spec.name));
                    }
                }
            }
        }
    }
}
