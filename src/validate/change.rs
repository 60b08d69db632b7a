//! Updates and deletes (RULES.md §7): the cluster judges a change against the object it has.
//! A few fields cannot change (UPD-01..03), a namespace cannot shrink away from the VPCs in it
//! (UPD-04/05), and an object others still reference cannot be deleted (DEL-01..06). fgd
//! compares the fabric after the change with a baseline commit (HEAD for `validate` and
//! `ingest`, the last push for `push`), which is the closest thing to what the cluster has.
//!
//! Only the files the change touched are read from the baseline (`Before`); every other
//! managed/ object is the baseline's as it stands. A problem of an update is reported on the
//! changed object, at the field, naming the old value; a problem of a delete on each object
//! that still references the deleted one (which has no file left), pointing at where the
//! baseline had it.
//!
//! SwitchProfile's rules (UPD-06, DEL-07) are moot: fgd never manages a SwitchProfile (GEN-10).

use std::collections::{HashMap, HashSet};

use super::batch;
use super::fabric::{Deleted, Found, Gone, Index, Obj, Source};
use super::problem::{FieldPath, Place, Problem, RuleId, Severity};
use super::rules::connection;
use super::rules::{ipv4ns, switch, vlanns, vpc, Facts, Spot};
use super::{At, Level, Settings, Validator};
use crate::yaml::Limits;

/// The rules this module checks.
pub const RULES: [&str; 11] = [
    "UPD-01", "UPD-02", "UPD-03", "UPD-04", "UPD-05", "DEL-01", "DEL-02", "DEL-03", "DEL-04",
    "DEL-05", "DEL-06",
];

/// How messages name them together.
pub const NAMED: &str = "updates and deletes (UPD-01..05, DEL-01..06)";

/// Whether any of them runs under `settings`: if not, the baseline is not read at all.
pub fn wanted(settings: &Settings) -> bool {
    settings.level == Level::All && RULES.iter().any(|r| !settings.skip.contains(&RuleId(r)))
}

/// The commit a change is judged against, as these rules read it. git reads it
/// (`git::Baseline`); a module below git (the ingest) gets it from its caller, through
/// `OpenBaseline`.
pub trait Baseline {
    /// The baseline's version of each managed/ file the change touched, analysed by `v`;
    /// `shown` is how the analysis of managed/ names its folder. The error says why it could
    /// not be read.
    fn before(&self, shown: &str, limits: &Limits, v: &Validator) -> Result<Before, String>;
}

/// Opens the baseline of the fabric at a root (its HEAD), or says why there is none.
pub type OpenBaseline<'a> = &'a dyn Fn(&std::path::Path) -> Result<Box<dyn Baseline>, String>;

/// What the baseline holds of the files the change touched.
#[derive(Debug, Default)]
pub struct Before {
    /// How messages name the baseline: `HEAD`, `origin/main`.
    pub rev: String,
    /// The baseline's objects in those files (files named `<rev>:<path>`).
    touched: Index,
    /// Those files as the analysis of managed/ names them: what managed/ holds there now is
    /// not the baseline's.
    changed: HashSet<String>,
}

impl Before {
    /// Whether the baseline holds `kind/name` in a file the change touched (one it does not
    /// touch is still in managed/).
    pub fn holds(&self, kind: &str, name: &str) -> bool {
        self.touched.get(kind, name).is_some()
    }

    /// `files`: each file of the fabric the change touched (`managed/vpcs/web.yaml`) with the
    /// baseline's bytes (None: the baseline has no such file); `shown`: how the analysis of
    /// managed/ names its folder (`managed/`, or with the fabric's path in front). Objects are
    /// analysed as `v` analyses managed/, and only their facts are kept.
    pub fn new(
        rev: String,
        files: Vec<(String, Option<Vec<u8>>)>,
        shown: &str,
        limits: &Limits,
        v: &Validator,
    ) -> Before {
        let mut before = Before {
            rev,
            ..Default::default()
        };
        for (path, bytes) in files {
            let Some(under) = path
                .strip_prefix(crate::fabric::MANAGED)
                .and_then(|p| p.strip_prefix('/'))
            else {
                continue;
            };
            if !crate::fabric::kustomization::is_object_path(under) {
                continue;
            }
            before.changed.insert(format!("{shown}{under}"));
            let Some(bytes) = bytes else { continue };
            let format = crate::discover::format_of(under).unwrap_or(crate::discover::Format::Yaml);
            let name = format!("{}:{path}", before.rev);
            let a = super::analyze::analyze_with(&name, bytes, format, limits, v);
            for obj in batch::objects(std::slice::from_ref(&a), Source::Managed) {
                before.touched.insert(obj);
            }
        }
        before
    }

    /// A baseline from objects already indexed (tests): `touched` as the baseline has them,
    /// `changed` the files of managed/ that differ.
    pub fn of(rev: &str, touched: Index, changed: HashSet<String>) -> Before {
        Before {
            rev: rev.to_string(),
            touched,
            changed,
        }
    }

    /// Nothing of managed/ differs from the baseline.
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty()
    }
}

/// The baseline seen through the fabric after the change: the touched files' objects as the
/// baseline holds them, every other managed/ object as it is.
pub struct Then<'a> {
    pub before: &'a Before,
    pub after: &'a Index,
    /// managed/ objects that incoming ones replace in `after`, by kind and name.
    pub replaced: &'a HashMap<(&'static str, std::sync::Arc<str>), Obj>,
}

impl<'a> Then<'a> {
    /// The managed/ object behind `o` (itself, or the one an incoming object replaces), when
    /// its file is as the baseline has it.
    fn untouched(&self, o: &'a Obj) -> Option<&'a Obj> {
        let managed = match o.source {
            Source::Managed => o,
            Source::Incoming => self.replaced.get(&(o.kind, o.name.clone()))?,
        };
        (!self.before.changed.contains(&*managed.file)).then_some(managed)
    }

    /// The baseline's version of `kind`/`name`.
    pub fn get(&self, kind: &str, name: &str) -> Option<&'a Obj> {
        if let Some(o) = self.before.touched.get(kind, name) {
            return Some(o);
        }
        self.untouched(self.after.get(kind, name)?)
    }

    /// Every VPC of the baseline.
    fn vpcs(&self) -> Vec<&'a Obj> {
        let mut out: Vec<&'a Obj> = self.before.touched.of_kind("VPC").collect();
        for o in self.after.of_kind("VPC") {
            if self.before.touched.get("VPC", &o.name).is_none() {
                out.extend(self.untouched(o));
            }
        }
        out
    }
}

fn found(
    obj: &Obj,
    rule: &'static str,
    at: &At,
    message: String,
    upstream: &str,
    see: Option<Place>,
) -> Found {
    Found {
        kind: obj.kind,
        name: obj.name.clone(),
        file: obj.file.clone(),
        source: obj.source,
        doc: obj.doc,
        problem: Problem {
            rule: RuleId(rule),
            severity: Severity::Error,
            path: at.path.clone(),
            pos: at.pos,
            message: message.into(),
            // The webhooks return these errors unwrapped: no kind prefix.
            upstream: Some(upstream.into()),
            see_also: see.map(Box::new),
            assumed: false,
        },
    }
}

fn skip(out: &mut Vec<Found>, settings: &Settings) {
    if !settings.skip.is_empty() {
        out.retain(|f| !settings.skip.contains(&f.problem.rule));
    }
}

/// UPD-01..05 over the objects of `then.after` that the baseline has in another version.
pub fn updates(then: &Then, settings: &Settings) -> Vec<Found> {
    let mut out = Vec::new();
    let mut vpcs: Option<Vec<&Obj>> = None;
    for kind in ["Connection", "Switch", "IPv4Namespace", "VLANNamespace"] {
        for new in then.after.of_kind(kind) {
            let Some(old) = then.get(kind, &new.name) else {
                continue;
            };
            if std::ptr::eq(old, new) {
                continue;
            }
            match (&*old.facts, &*new.facts) {
                (Facts::Connection(o), Facts::Connection(n)) => {
                    connection_update(then, old, o, new, n, &mut out)
                }
                (Facts::Switch(o), Facts::Switch(n)) => {
                    switch_update(then, old, o, new, n, &mut out)
                }
                (Facts::Ipv4Namespace(o), Facts::Ipv4Namespace(n)) => {
                    let same = o
                        .subnets
                        .iter()
                        .map(|s| s.value)
                        .eq(n.subnets.iter().map(|s| s.value));
                    if !same && !n.subnets.is_empty() {
                        let vpcs = vpcs.get_or_insert_with(|| then.vpcs());
                        ipv4_update(then, vpcs, new, n, &mut out);
                    }
                }
                (Facts::VlanNamespace(o), Facts::VlanNamespace(n)) => {
                    let same = o
                        .ranges
                        .iter()
                        .map(|s| s.value)
                        .eq(n.ranges.iter().map(|s| s.value));
                    // No ranges: invalid ones, which the webhook refuses first (VLNS-01/02).
                    if !same && !n.ranges.is_empty() {
                        let vpcs = vpcs.get_or_insert_with(|| then.vpcs());
                        vlan_update(then, vpcs, new, n, &mut out);
                    }
                }
                _ => {}
            }
        }
    }
    skip(&mut out, settings);
    out
}

/// How the old version names itself in a message: `HEAD (HEAD:managed/x.yaml)` when it is
/// the baseline's own file, else the unchanged managed/ file it is in.
fn where_old(then: &Then, old: &Obj) -> String {
    if then.before.touched.get(old.kind, &old.name).is_some() {
        format!("{}", old.file)
    } else {
        format!("{} ({})", then.before.rev, old.file)
    }
}

fn type_name(f: &connection::Facts) -> &'static str {
    match f.kind() {
        Some(t) => t.label(),
        None if f.mclag() => "mclag (no type, to the webhook)",
        None => "none",
    }
}

/// UPD-01, UPD-02 (`connection_wh.go:92-99`): the type and a static external's withinVPC.
fn connection_update(
    then: &Then,
    old_obj: &Obj,
    old: &connection::Facts,
    new_obj: &Obj,
    new: &connection::Facts,
    out: &mut Vec<Found>,
) {
    let was = where_old(then, old_obj);
    if old.kind() != new.kind() {
        out.push(found(
            new_obj,
            "UPD-01",
            &new.type_at,
            format!(
                "the connection's type is {} here but {} in {was}: the cluster keeps a connection's type; to change it, delete the connection in one push and create it anew in a later one (or under another name)",
                type_name(new),
                type_name(old)
            ),
            "connection type is immutable",
            Some(old_obj.place(&old.type_at)),
        ));
        // The webhook stops at the type.
        return;
    }
    if let (Some(_), Some(new_at)) = (&old.static_external, &new.static_external) {
        let text = |f: &connection::Facts| {
            f.within_vpc
                .as_ref()
                .map_or("", |s| s.value.as_str())
                .to_string()
        };
        let (o, n) = (text(old), text(new));
        if o != n {
            let at = new.within_vpc.as_ref().map_or(new_at, |s| &s.at);
            let old_at = old
                .within_vpc
                .as_ref()
                .map(|s| &s.at)
                .or(old.static_external.as_ref())
                .unwrap_or(&old.type_at);
            out.push(found(
                new_obj,
                "UPD-02",
                at,
                format!(
                    "staticExternal.withinVPC is {n:?} here but {o:?} in {was}: the cluster keeps it; to change it, delete the connection in one push and create it anew in a later one (or under another name)"
                ),
                "StaticExternal.WithinVPC is immutable",
                Some(old_obj.place(old_at)),
            ));
        }
    }
}

/// UPD-03 (`switch_wh.go:78`): port breakouts stay while RoCE is on, before or after.
fn switch_update(
    then: &Then,
    old_obj: &Obj,
    old: &switch::SwitchFacts,
    new_obj: &Obj,
    new: &switch::SwitchFacts,
    out: &mut Vec<Found>,
) {
    if !(old.roce.value || new.roce.value) || old.port_breakouts == new.port_breakouts {
        return;
    }
    let mut changes = Vec::new();
    let mut first: Option<&At> = None;
    let ports: std::collections::BTreeSet<&String> = old
        .port_breakouts
        .keys()
        .chain(new.port_breakouts.keys())
        .collect();
    for port in ports {
        let (o, n) = (old.port_breakouts.get(port), new.port_breakouts.get(port));
        if o == n {
            continue;
        }
        changes.push(match (o, n) {
            (Some(o), Some(n)) => format!("{port} {o} → {n}"),
            (None, Some(n)) => format!("{port} {n} added"),
            (Some(o), None) => format!("{port} {o} removed"),
            (None, None) => continue,
        });
        if first.is_none() {
            first = new.port_breakouts_at.1.get(port);
        }
    }
    let roce = match (old.roce.value, new.roce.value) {
        (true, true) => "on in both versions".to_string(),
        (true, false) => format!("on in {}, off here", then.before.rev),
        _ => format!("off in {}, on here", then.before.rev),
    };
    out.push(found(
        new_obj,
        "UPD-03",
        first.unwrap_or(&new.port_breakouts_at.0),
        format!(
            "portBreakouts change ({}) while RoCEv2 is {roce} (compared with {}): the cluster does not change a switch's breakouts while roce is on, before or after; change roce and the breakouts in separate pushes (roce off, then the breakouts, then roce on)",
            changes.join(", "),
            where_old(then, old_obj)
        ),
        "port breakouts cannot be changed when RoCEv2 is enabled",
        Some(old_obj.place(&old.port_breakouts_at.0)),
    ));
}

/// Where a VPC's subnet is after the change, for a see-also: in the VPC as it is now when it
/// still has the subnet, else where the baseline has it.
fn subnet_place(then: &Then, old_vpc: &Obj, subnet: &vpc::Subnet) -> Place {
    if let Some(now) = then.after.get("VPC", &old_vpc.name) {
        if let Facts::Vpc(f) = &*now.facts {
            if let Some(sn) = f.subnets.iter().find(|s| s.name.value == subnet.name.value) {
                return now.place(&sn.name.at);
            }
        }
    }
    old_vpc.place(&subnet.name.at)
}

/// Whether the VPC has `subnet` after the change as the baseline has it (with `same`
/// judging the subnets): the whole-fabric rules then report its side too.
fn unchanged_subnet(
    then: &Then,
    old_vpc: &Obj,
    subnet: &vpc::Subnet,
    same: impl Fn(&vpc::Facts, &vpc::Subnet) -> bool,
) -> bool {
    match then.after.get("VPC", &old_vpc.name).map(|o| &*o.facts) {
        Some(Facts::Vpc(f)) => f
            .subnets
            .iter()
            .any(|s| s.name.value == subnet.name.value && same(f, s)),
        _ => false,
    }
}

const STALE_VPC: &str = "the VPC's own change in this push does not help: the cluster checks the namespace against the VPC it has, and Flux dry-runs the whole fabric before applying any of it; push the VPC's change first and the namespace's after it";

/// UPD-04 (`ipv4namespace_wh.go:96-112`): the VPCs the cluster has in the namespace (by the
/// `ipv4ns` label, i.e. after their defaulting) must fit its new subnets.
fn ipv4_update(then: &Then, vpcs: &[&Obj], ns_obj: &Obj, ns: &ipv4ns::Facts, out: &mut Vec<Found>) {
    let listed: Vec<String> = ns.subnets.iter().map(|s| s.value.to_string()).collect();
    for old in vpcs {
        let Facts::Vpc(v) = &*old.facts else { continue };
        if v.ipv4_namespace.value != *ns_obj.name {
            continue;
        }
        let outside = v.subnets.iter().find(|sn| {
            sn.prefix
                .is_some_and(|p| !ns.subnets.iter().any(|n| p.is_subset_of(&n.value)))
        });
        let Some(sn) = outside else { continue };
        let both = unchanged_subnet(then, old, sn, |f, s| {
            f.ipv4_namespace.value == *ns_obj.name && s.cidr.value == sn.cidr.value
        });
        let tail = if both {
            "(VPC-23 reports the VPC's side)".to_string()
        } else {
            STALE_VPC.to_string()
        };
        out.push(found(
            ns_obj,
            "UPD-04",
            &ns.subnets_at,
            format!(
                "VPC {} has subnet {} ({}) in {}, which the namespace's new subnets ({}) do not hold: the cluster refuses the update; {tail}",
                old.name,
                sn.name.value,
                sn.cidr.value,
                then.before.rev,
                listed.join(", ")
            ),
            &format!(
                "existing vpc {} subnet {} (cidr {}) doesn't fit updated IPv4 namespace",
                old.name, sn.name.value, sn.cidr.value
            ),
            Some(subnet_place(then, old, sn)),
        ));
    }
}

/// UPD-05 (`vlannamespace_wh.go:78-87`): the VPCs the cluster has must have their VLANs in the
/// new ranges. Upstream selects them by the *IPv4* namespace label with the VLAN namespace's
/// name (RULES.md Q5), and checks every subnet, hostBGP ones (VLAN 0) included.
fn vlan_update(then: &Then, vpcs: &[&Obj], ns_obj: &Obj, ns: &vlanns::Facts, out: &mut Vec<Found>) {
    let listed: Vec<String> = ns
        .ranges
        .iter()
        .map(|r| format!("{}-{}", r.value.from, r.value.to))
        .collect();
    for old in vpcs {
        let Facts::Vpc(v) = &*old.facts else { continue };
        if v.ipv4_namespace.value != *ns_obj.name {
            continue;
        }
        let Some(sn) = v
            .subnets
            .iter()
            .find(|sn| !ns.ranges.iter().any(|r| r.value.contains(sn.vlan.value)))
        else {
            continue;
        };
        let mut why = Vec::new();
        if v.vlan_namespace.value != *ns_obj.name {
            why.push(format!(
                "the webhook picks the VPCs by their IPv4Namespace's name (RULES.md Q5): VPC {} takes its VLANs from VLANNamespace {}, but its IPv4Namespace is named {} too",
                old.name, v.vlan_namespace.value, ns_obj.name
            ));
        }
        if sn.host_bgp {
            why.push("a hostBGP subnet has no VLAN, and the webhook checks VLAN 0 against the ranges all the same".to_string());
        }
        let both = why.is_empty()
            && unchanged_subnet(then, old, sn, |f, s| {
                f.vlan_namespace.value == *ns_obj.name
                    && s.vlan.value == sn.vlan.value
                    && !s.host_bgp
            });
        why.push(if both {
            "(VPC-24 reports the VPC's side)".to_string()
        } else {
            STALE_VPC.to_string()
        });
        out.push(found(
            ns_obj,
            "UPD-05",
            &ns.ranges_at,
            format!(
                "VPC {} has subnet {} with VLAN {} in {}, outside the namespace's new ranges ({}): the cluster refuses the update; {}",
                old.name,
                sn.name.value,
                sn.vlan.value,
                then.before.rev,
                listed.join(", "),
                why.join("; ")
            ),
            &format!(
                "existing vpc {} subnet {} (vlan {}) doesn't fit updated VLAN namespace",
                old.name, sn.name.value, sn.vlan.value
            ),
            Some(subnet_place(then, old, sn)),
        ));
    }
}

/// One reference the delete webhooks look for (by the labels `Default()` writes).
struct Ref<'a> {
    /// The referenced object's kind.
    kind: &'static str,
    name: &'a Spot<String>,
    rule: &'static str,
    /// What the referrer does to it, for the message.
    does: &'static str,
    /// The webhook's error.
    upstream: &'static str,
}

/// What `obj` references, as the delete webhooks of the referenced kinds select it.
fn references(obj: &Obj) -> Vec<Ref<'_>> {
    let r = |kind, name, rule, does, upstream| Ref {
        kind,
        name,
        rule,
        does,
        upstream,
    };
    let mut out = Vec::new();
    match &*obj.facts {
        Facts::VpcAttachment(f) => {
            for (kind, name) in f.references() {
                out.push(match kind {
                    "VPC" => r(
                        "VPC",
                        name,
                        "DEL-01",
                        "attaches to it",
                        "VPC has attachments",
                    ),
                    _ => r(
                        "Connection",
                        name,
                        "DEL-05",
                        "attaches a VPC over it",
                        "connection has attachments",
                    ),
                });
            }
        }
        Facts::VpcPeering(f) => {
            for (_, name) in f.references() {
                out.push(r("VPC", name, "DEL-01", "peers it", "VPC has peerings"));
            }
        }
        Facts::ExternalPeering(f) => {
            for (kind, name) in f.references() {
                out.push(match kind {
                    "VPC" => r(
                        "VPC",
                        name,
                        "DEL-01",
                        "peers it with an External",
                        "VPC has external peerings",
                    ),
                    _ => r(
                        "External",
                        name,
                        "DEL-04",
                        "peers it",
                        "external has peerings",
                    ),
                });
            }
        }
        Facts::ExternalAttachment(f) => {
            for (kind, name) in f.references() {
                out.push(match kind {
                    "External" => r(
                        "External",
                        name,
                        "DEL-04",
                        "attaches it",
                        "external has attachments",
                    ),
                    _ => r(
                        "Connection",
                        name,
                        "DEL-05",
                        "attaches an External over it",
                        "connection has external attachments",
                    ),
                });
            }
        }
        // MCLAG connections get no labels (RULES.md Q17): nothing blocks a delete.
        Facts::Connection(f) if !f.mclag() => {
            if let Some(vpc) = &f.within_vpc {
                out.push(r(
                    "VPC",
                    vpc,
                    "DEL-01",
                    "names it as staticExternal.withinVPC",
                    "VPC has static external connections (using withingVPC option)",
                ));
            }
            if let Some(e) = &f.endpoints {
                for sw in &e.switches {
                    out.push(r(
                        "Switch",
                        sw,
                        "DEL-06",
                        "uses a port of it",
                        "switch has connections",
                    ));
                }
                for srv in &e.servers {
                    out.push(r(
                        "Server",
                        srv,
                        "DEL-06",
                        "uses a port of it",
                        "server has connections",
                    ));
                }
            }
        }
        Facts::Vpc(f) => {
            out.push(r(
                "IPv4Namespace",
                &f.ipv4_namespace,
                "DEL-02",
                "takes its subnets from it",
                "IPv4Namespace has VPCs",
            ));
            out.push(r(
                "VLANNamespace",
                &f.vlan_namespace,
                "DEL-03",
                "takes its VLANs from it",
                "VLANNamespace has VPCs",
            ));
        }
        Facts::External(f) => {
            for (_, name) in f.references() {
                out.push(r(
                    "IPv4Namespace",
                    name,
                    "DEL-02",
                    "is in it",
                    "IPv4Namespace has externals",
                ));
            }
        }
        Facts::Switch(f) => {
            for ns in &f.vlan_namespaces {
                out.push(r(
                    "VLANNamespace",
                    ns,
                    "DEL-03",
                    "lists it in spec.vlanNamespaces",
                    "VLANNamespace has switches",
                ));
            }
        }
        _ => {}
    }
    out
}

/// Objects the baseline has in the files the change touched, which the fabric after the
/// change no longer has (objects in untouched files are in the fabric still).
fn gone<'a>(then: &Then<'a>) -> HashMap<(&'a str, &'a str), &'a Obj> {
    then.before
        .touched
        .all()
        .filter(|o| then.after.get(o.kind, &o.name).is_none())
        .map(|o| ((o.kind, &*o.name), o))
        .collect()
}

/// What the change deletes, and which of those deletes a webhook refuses (the cross-object
/// rules judge a reference to a deleted object by it). A refusal whose DEL rule is skipped
/// counts as none: nothing would then say why the reference is not reported.
pub fn deleted(then: &Then, settings: &Settings) -> Deleted {
    let gone = gone(then);
    if gone.is_empty() {
        return Deleted::new();
    }
    let mut refused: HashSet<(&str, &str)> = HashSet::new();
    for obj in then.after.all() {
        for r in references(obj) {
            let key = (r.kind, r.name.value.as_str());
            if gone.contains_key(&key) && !settings.skip.contains(&RuleId(r.rule)) {
                refused.insert(key);
            }
        }
    }
    gone.iter()
        .map(|(key, o)| {
            let at = At {
                path: FieldPath::root(),
                pos: o.pos,
            };
            let g = Gone {
                place: o.place(&at),
                refused: refused.contains(key),
            };
            ((o.kind, o.name.clone()), g)
        })
        .collect()
}

/// DEL-01..06: objects the baseline has in the files the change touched, which the fabric
/// after the change no longer has, while objects of it still reference them.
pub fn deletes(then: &Then, settings: &Settings) -> Vec<Found> {
    let gone = gone(then);
    let mut out = Vec::new();
    if gone.is_empty() {
        return out;
    }
    for obj in then.after.all() {
        for r in references(obj) {
            let Some(deleted) = gone.get(&(r.kind, r.name.value.as_str())) else {
                continue;
            };
            let at = At {
                path: FieldPath::root(),
                pos: deleted.pos,
            };
            out.push(found(
                obj,
                r.rule,
                &r.name.at,
                format!(
                    "{}/{} is gone from the fabric ({} has it), but this {} still {}: the cluster refuses to delete it while this {} exists, and Argo CD and Flux prune in an order you do not control; remove this {} in the same change, or keep {}/{}",
                    r.kind,
                    deleted.name,
                    deleted.file,
                    obj.kind,
                    r.does,
                    obj.kind,
                    obj.kind,
                    r.kind,
                    deleted.name
                ),
                r.upstream,
                Some(deleted.place(&at)),
            ));
        }
    }
    skip(&mut out, settings);
    out
}

#[cfg(test)]
mod tests;
