//! Names and what refers to them: unique client and service names, `target`, `calls`, `[[link]]` endpoints, and call cycles (through queues too).

use super::Checker;
use crate::scenario::diagnostic::{did_you_mean, name_list, shorten};
use crate::scenario::file::{LinkFile, ScenarioFile, ServiceFile};
use crate::scenario::{Endpoint, LinkSpec, QueueSpec};
use petgraph::graph::{DiGraph, NodeIndex};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::ops::Range;
use toml::Spanned;

/// Every client, service and queue name, with what it names first.
pub(super) struct Names {
    by_name: BTreeMap<String, Endpoint>,
    /// Queues, by name (a queue is no endpoint of links or faults).
    queues: BTreeMap<String, usize>,
    /// False when a client or service has no usable `name` (reported already): then a
    /// reference to an unknown name may mean that one, and is not reported.
    complete: bool,
    /// What messages about a wrong name say, worked out once: a file may misspell one name
    /// in thousands of places, and each message would otherwise sort and compare every name.
    said: RefCell<Said>,
}

/// A list of names a reference may pick from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Known {
    /// Services and queues: what a `target` or a call may name.
    Destinations,
    /// Services.
    Services,
    /// Clients and services.
    Endpoints,
}

/// Parts of messages about wrong names, by list of names and by word.
#[derive(Default)]
struct Said {
    /// Each list: whether it is empty, and as messages show it.
    lists: BTreeMap<Known, (bool, String)>,
    /// The name a word may be a typo of, by list and word.
    hints: BTreeMap<(Known, String), Option<String>>,
}

impl Names {
    pub(super) fn get(&self, name: &str) -> Option<&Endpoint> {
        self.by_name.get(name)
    }

    fn all(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    /// The queue named `name`, if any.
    pub(super) fn queue(&self, name: &str) -> Option<usize> {
        self.queues.get(name).copied()
    }

    /// The names of the queues, sorted.
    pub(super) fn queue_names(&self) -> impl Iterator<Item = &str> {
        self.queues.keys().map(String::as_str)
    }

    /// The names of the services and queues, sorted: what a `target` or a call may name.
    fn destinations(&self) -> Vec<&str> {
        let mut all = service_names(self);
        all.extend(self.queues.keys().map(String::as_str));
        all.sort_unstable();
        all
    }

    /// The names of list `which`, sorted.
    fn known(&self, which: Known) -> Vec<&str> {
        match which {
            Known::Destinations => self.destinations(),
            Known::Services => service_names(self),
            Known::Endpoints => self.all().collect(),
        }
    }

    /// Whether list `which` is empty, and the list as messages show it.
    fn listed(&self, which: Known) -> (bool, String) {
        self.said
            .borrow_mut()
            .lists
            .entry(which)
            .or_insert_with(|| {
                let known = self.known(which);
                (known.is_empty(), name_list(&known))
            })
            .clone()
    }

    /// The name of list `which` that `word` may be a typo of.
    fn hint(&self, which: Known, word: &str) -> Option<String> {
        if let Some(hint) = self.said.borrow().hints.get(&(which, word.to_string())) {
            return hint.clone();
        }
        let hint = did_you_mean(word, self.known(which)).map(str::to_string);
        self.said
            .borrow_mut()
            .hints
            .insert((which, word.to_string()), hint.clone());
        hint
    }
}

impl Checker<'_> {
    /// Every client and service name, checked for duplicates and unusable characters.
    pub(super) fn names(&mut self, f: &ScenarioFile) -> Names {
        let mut names = Names {
            by_name: BTreeMap::new(),
            queues: BTreeMap::new(),
            complete: true,
            said: RefCell::default(),
        };
        let clients = f
            .client
            .iter()
            .flat_map(|c| c.get_ref().iter())
            .enumerate()
            .map(|(i, c)| (c.get_ref().name.as_ref(), Endpoint::Client(i)));
        let services = f
            .service
            .iter()
            .flat_map(|s| s.get_ref().iter())
            .enumerate()
            .map(|(i, s)| (s.get_ref().name.as_ref(), Endpoint::Service(i)));
        for (name, endpoint) in clients.chain(services) {
            let Some(name) = name else {
                names.complete = false;
                continue;
            };
            let n = name.get_ref();
            let shown = shorten(n, 40);
            let problem = super::name::printable_problem(n).or_else(|| {
                (n.contains(['[', ']', ',', '"']) || n.contains("->"))
                    .then(|| "it has a bracket, comma, quote or `->`".to_string())
            });
            if let Some(problem) = problem {
                self.error(
                    name.span(),
                    format!(
                        "the name {} is not usable: {problem}; expected 1 to {} bytes of printable text without brackets, commas, quotes or `->`, which replica and link names use (`api[1]`, `api->db`)",
                        super::name::quoted(n),
                        super::name::MAX_NAME_BYTES
                    ),
                );
            }
            if let Some(first) = names.by_name.get(n) {
                let first = match first {
                    Endpoint::Client(_) => "a client",
                    Endpoint::Service(_) => "a service",
                };
                self.error(
                    name.span(),
                    format!(
                        "the name \"{shown}\" is already used by {first}; expected a name no other client or service has"
                    ),
                );
            } else {
                names.by_name.insert(n.clone(), endpoint);
            }
        }
        for (i, q) in f.queue.iter().enumerate() {
            let Some(name) = q.get_ref().name.as_ref() else {
                names.complete = false;
                continue;
            };
            let n = name.get_ref();
            if let Some(problem) = super::name::printable_problem(n) {
                self.error(
                    name.span(),
                    format!(
                        "the name {} is not usable: {problem}; expected 1 to {} bytes of printable text",
                        super::name::quoted(n),
                        super::name::MAX_NAME_BYTES
                    ),
                );
            }
            let first = match names.by_name.get(n) {
                Some(Endpoint::Client(_)) => Some("a client"),
                Some(Endpoint::Service(_)) => Some("a service"),
                None => names.queues.contains_key(n).then_some("another queue"),
            };
            if let Some(first) = first {
                self.error(
                    name.span(),
                    format!(
                        "the name \"{}\" is already used by {first}; expected a name no other client, service or queue has",
                        shorten(n, 40)
                    ),
                );
            } else {
                names.queues.insert(n.clone(), i);
            }
        }
        names
    }

    /// What a client's `target` or a call's `to` names: a service or a queue, or an error
    /// naming both kinds; `key` is the key that names it.
    pub(super) fn dest_ref(
        &mut self,
        name: &Spanned<String>,
        names: &Names,
        key: &str,
    ) -> Option<crate::scenario::Dest> {
        use crate::scenario::Dest;
        if let Some(q) = names.queue(name.get_ref()) {
            return Some(Dest::Queue(q));
        }
        match names.get(name.get_ref()) {
            Some(Endpoint::Service(i)) => Some(Dest::Service(*i)),
            Some(Endpoint::Client(_)) => {
                let (none, all) = names.listed(Known::Destinations);
                let expected = if none {
                    "a service or a queue, but the file declares none".to_string()
                } else {
                    format!("a service or a queue: {all}")
                };
                self.error(
                    name.span(),
                    format!(
                        "`{key}` names the client \"{}\"; expected {expected}",
                        name.get_ref(),
                    ),
                );
                None
            }
            None if !names.complete => None,
            None => {
                let (none, all) = names.listed(Known::Destinations);
                let hint = names
                    .hint(Known::Destinations, name.get_ref())
                    .map(|n| format!("did you mean \"{n}\"? "))
                    .unwrap_or_default();
                let expected = if none {
                    "expected the name of a [[service]] or a [[queue]], but the file declares none"
                        .to_string()
                } else {
                    format!("{hint}expected one of: {all}")
                };
                self.error(
                    name.span(),
                    format!(
                        "unknown service or queue \"{}\" in `{key}`; {expected}",
                        shorten(name.get_ref(), 40)
                    ),
                );
                None
            }
        }
    }

    /// The index of the service named by `name`, or an error naming the known services;
    /// `key` is the key that names it.
    pub(super) fn service_ref(
        &mut self,
        name: &Spanned<String>,
        names: &Names,
        key: &str,
    ) -> Option<usize> {
        match names.get(name.get_ref()) {
            Some(Endpoint::Service(i)) => Some(*i),
            Some(Endpoint::Client(_)) => {
                let (none, services) = names.listed(Known::Services);
                let expected = if none {
                    "a service, but the file declares none".to_string()
                } else {
                    format!("a service: {services}")
                };
                self.error(
                    name.span(),
                    format!(
                        "`{key}` names the client \"{}\"; expected {expected}",
                        name.get_ref(),
                    ),
                );
                None
            }
            None if !names.complete => None,
            None => {
                let (none, services) = names.listed(Known::Services);
                let hint = names
                    .hint(Known::Services, name.get_ref())
                    .map(|n| format!("did you mean \"{n}\"? "))
                    .unwrap_or_default();
                let expected = if none {
                    "expected the name of a [[service]], but the file declares none".to_string()
                } else {
                    format!("{hint}expected one of: {services}")
                };
                self.error(
                    name.span(),
                    format!(
                        "unknown service \"{}\" in `{key}`; {expected}",
                        shorten(name.get_ref(), 40)
                    ),
                );
                None
            }
        }
    }

    /// The `[[link]]` tables: two known, different endpoints, at most one link per pair.
    pub(super) fn links(&mut self, files: &[Spanned<LinkFile>], names: &Names) -> Vec<LinkSpec> {
        let mut seen = BTreeSet::new();
        let mut links = Vec::new();
        for l in files {
            let span = l.span();
            let l = l.get_ref();
            let from = self.required(
                &l.from,
                &span,
                "from",
                "this [[link]]",
                "the name of a client or service, like `from = \"api\"`",
            );
            let to = self.required(
                &l.to,
                &span,
                "to",
                "this [[link]]",
                "the name of a client or service, like `to = \"db\"`",
            );
            let a = from.and_then(|n| self.endpoint(n, names, "a [[link]]"));
            let b = to.and_then(|n| self.endpoint(n, names, "a [[link]]"));
            let latency = l
                .latency
                .as_ref()
                .and_then(|d| self.distribution(d, "link latency"));
            let (Some(a), Some(b), Some(from), Some(to)) = (a, b, from, to) else {
                continue;
            };
            if a == b {
                self.error(
                    to.span(),
                    format!(
                        "this [[link]] joins \"{}\" to itself; expected `from` and `to` to name two different endpoints",
                        to.get_ref()
                    ),
                );
            } else if !seen.insert((a.min(b), a.max(b))) {
                self.error(
                    from.span(),
                    format!(
                        "a second [[link]] between \"{}\" and \"{}\"; expected at most one [[link]] per pair (it applies both ways)",
                        from.get_ref(),
                        to.get_ref()
                    ),
                );
            } else {
                links.push(LinkSpec { a, b, latency });
            }
        }
        links
    }

    /// The client or service a `[[link]]` end names.
    pub(super) fn endpoint(
        &mut self,
        name: &Spanned<String>,
        names: &Names,
        place: &str,
    ) -> Option<Endpoint> {
        if let Some(e) = names.get(name.get_ref()) {
            return Some(*e);
        }
        if !names.complete {
            return None;
        }
        let hint = names
            .hint(Known::Endpoints, name.get_ref())
            .map(|n| format!("did you mean \"{n}\"? "))
            .unwrap_or_default();
        let (none, known) = names.listed(Known::Endpoints);
        let expected = if none {
            "expected the name of a [[client]] or a [[service]], but the file declares none"
                .to_string()
        } else {
            format!("{hint}expected one of: {known}")
        };
        self.error(
            name.span(),
            format!(
                "unknown client or service \"{}\" in {place}; {expected}",
                shorten(name.get_ref(), 40),
            ),
        );
        None
    }

    /// Reports one call cycle, the shortest through its first service, for each group of
    /// services that can reach each other through calls (and each service calling itself).
    /// A send to a queue leads on to the queue's consumer: a consumer whose work sends
    /// back into its queue would make a message of every message.
    pub(super) fn check_cycles(
        &mut self,
        services: &[Spanned<ServiceFile>],
        names: &Names,
        queues: &[QueueSpec],
    ) {
        // calls[i]: the services that service i calls, or reaches through a queue (named),
        // with the span of each `to`.
        let calls: Vec<Vec<Step>> = services
            .iter()
            .map(|s| {
                s.get_ref()
                    .calls
                    .iter()
                    .filter_map(|c| {
                        let to = c.get_ref().to.as_ref()?;
                        let (service, queue) =
                            match (names.get(to.get_ref()), names.queue(to.get_ref())) {
                                (_, Some(q)) => (queues.get(q)?.consumer?, Some(q)),
                                (Some(Endpoint::Service(j)), None) => (*j, None),
                                _ => return None,
                            };
                        Some(Step {
                            service,
                            queue,
                            span: to.span(),
                        })
                    })
                    .collect()
            })
            .collect();
        let mut graph = DiGraph::<usize, ()>::new();
        let nodes: Vec<NodeIndex> = (0..services.len()).map(|i| graph.add_node(i)).collect();
        for (i, out) in calls.iter().enumerate() {
            for step in out {
                graph.add_edge(nodes[i], nodes[step.service], ());
            }
        }
        let mut groups: Vec<Vec<usize>> = petgraph::algo::tarjan_scc(&graph)
            .into_iter()
            .map(|g| g.into_iter().map(|n| graph[n]).collect())
            .collect();
        groups.iter_mut().for_each(|g| g.sort_unstable());
        groups.sort();
        // Marks of the group searched, and the search's way back; each search clears what
        // it set, so that the searches together take time in proportion to the calls.
        let mut in_group = vec![false; services.len()];
        let mut came_from: Vec<Option<usize>> = vec![None; services.len()];
        for group in groups {
            let Some(&start) = group.first() else {
                continue;
            };
            // A service alone in its group has a cycle only if it calls itself.
            if group.len() == 1 && !calls[start].iter().any(|s| s.service == start) {
                continue;
            }
            group.iter().for_each(|&i| in_group[i] = true);
            let path = shortest_cycle(start, &calls, &in_group, &mut came_from);
            group.iter().for_each(|&i| {
                in_group[i] = false;
                came_from[i] = None;
            });
            let Some(path) = path else {
                continue;
            };
            // The step taken out of each service of the path, the first in file order.
            let steps: Vec<&Step> = path
                .windows(2)
                .filter_map(|w| calls[w[0]].iter().find(|s| s.service == w[1]))
                .collect();
            let Some(span) = steps.first().map(|s| s.span.clone()) else {
                continue;
            };
            let name = |i: usize| {
                services[i]
                    .get_ref()
                    .name
                    .as_ref()
                    .map_or("?", |n| n.get_ref().as_str())
            };
            let mut shown = vec![name(start)];
            for (step, &to) in steps.iter().zip(&path[1..]) {
                if let Some(q) = step.queue {
                    shown.push(queues[q].name.as_str());
                }
                shown.push(name(to));
            }
            let cycle = cycle_text(&shown);
            let message = if steps.iter().any(|s| s.queue.is_some()) {
                format!(
                    "call cycle through a queue: {cycle}; expected calls and sends without cycles, since every message would lead to another, and the work would go on until `drain` ends"
                )
            } else {
                format!(
                    "call cycle: {cycle}; expected calls without cycles, since a request holds its worker while its calls run"
                )
            };
            self.error(span, message);
        }
    }
}

/// One way from a service to another: a call, or a send to a queue that the other consumes.
struct Step {
    /// The service reached.
    service: usize,
    /// The queue passed through, if any.
    queue: Option<usize>,
    /// The call's `to`.
    span: Range<usize>,
}

/// The names of the services, sorted.
fn service_names(names: &Names) -> Vec<&str> {
    names
        .by_name
        .iter()
        .filter(|(_, e)| matches!(e, Endpoint::Service(_)))
        .map(|(n, _)| n.as_str())
        .collect()
}

/// The shortest path of calls from `start` back to `start` through services of its group,
/// as the list of services visited, `start` first and last. `came_from` is `None`
/// everywhere on entry; the search sets it only for services of the group.
fn shortest_cycle(
    start: usize,
    calls: &[Vec<Step>],
    in_group: &[bool],
    came_from: &mut [Option<usize>],
) -> Option<Vec<usize>> {
    let mut queue = VecDeque::from([start]);
    while let Some(at) = queue.pop_front() {
        for to in calls[at].iter().map(|s| s.service) {
            if to == start {
                let mut middle = Vec::new();
                let mut back = at;
                while back != start {
                    middle.push(back);
                    back = came_from[back]?;
                }
                let mut path = vec![start];
                path.extend(middle.into_iter().rev());
                path.push(start);
                return Some(path);
            }
            if in_group[to] && to != start && came_from[to].is_none() {
                came_from[to] = Some(at);
                queue.push_back(to);
            }
        }
    }
    None
}

/// Steps of a cycle shown in full; a longer one shows its first and last few.
const CYCLE_SHOWN: usize = 12;

/// The cycle `a -> b -> ... -> a`, with the middle of a long one left out (a cycle through
/// thousands of services would otherwise make one line of hundreds of kilobytes).
fn cycle_text(names: &[&str]) -> String {
    if names.len() <= CYCLE_SHOWN {
        return names.join(" -> ");
    }
    let (head, tail) = (&names[..CYCLE_SHOWN - 3], &names[names.len() - 3..]);
    let left_out = names.len() - head.len() - tail.len();
    format!(
        "{} -> ({left_out} more) -> {}",
        head.join(" -> "),
        tail.join(" -> ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_cycle_is_shown_by_its_ends() {
        assert_eq!(cycle_text(&["a", "b", "a"]), "a -> b -> a");
        let names: Vec<String> = (0..20_000).map(|i| format!("s{i}")).collect();
        let mut names: Vec<&str> = names.iter().map(String::as_str).collect();
        names.push("s0");
        let text = cycle_text(&names);
        assert!(text.starts_with("s0 -> s1 -> "), "{text}");
        assert!(text.ends_with(" -> s19998 -> s19999 -> s0"), "{text}");
        assert!(text.contains("(19989 more)") && text.len() < 200, "{text}");
    }
}
