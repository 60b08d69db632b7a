//! Rules for every kind: metadata as the API server validates it (labels and annotations,
//! GEN-02), server-populated fields that do not belong in git (GEN-07), and fabric labels the
//! webhook recomputes (GEN-09).

use super::{Ctx, F};
use crate::validate::tree::Node;

pub(crate) fn check_common(root: &Node, ctx: &mut Ctx) {
    let obj = F::root(root);
    let meta = obj.get("metadata");
    let rv = meta.get("resourceVersion");
    if rv.present() {
        ctx.error(
            "GEN-07",
            &rv,
            "metadata.resourceVersion is set: a create with it fails, and an update with a stale one conflicts; remove it (it comes from `kubectl get -o yaml`)",
            "",
        );
        if let Some(p) = ctx.out.last_mut() {
            p.upstream = Some("resourceVersion should not be set on objects to be created".into());
        }
    }
    for field in [
        "uid",
        "creationTimestamp",
        "generation",
        "managedFields",
        "selfLink",
    ] {
        let f = meta.get(field);
        if f.present() {
            ctx.warn(
                "GEN-07",
                &f,
                format!("metadata.{field} is set by the cluster, not by you: the cluster ignores or overwrites it; remove it"),
            );
        }
    }
    let status = obj.get("status");
    if status.present() {
        ctx.warn(
            "GEN-07",
            &status,
            "status is written by the controllers, not by you: the cluster ignores it; remove it",
        );
    }
    for (key, value) in meta.get("labels").entries() {
        if key.contains("fabric.githedgehog.com/") {
            ctx.warn(
                "GEN-09",
                &value,
                format!("label {key} is recomputed by the fabric (its webhook deletes every fabric.githedgehog.com/ label): yours never sticks, and Argo CD and Flux show drift"),
            );
        }
        if let Some(why) = bad_qualified_name(key) {
            ctx.error("GEN-02", &value, format!("label key {key:?} {why}"), "");
            set_upstream(
                ctx,
                format!("metadata.labels: Invalid value: {key:?}: {why}"),
            );
        }
        if let Some(v) = value.node.and_then(Node::as_str) {
            if let Some(why) = bad_label_value(v) {
                ctx.error(
                    "GEN-02",
                    &value,
                    format!("label {key}: value {v:?} {why}"),
                    "",
                );
                set_upstream(ctx, format!("metadata.labels: Invalid value: {v:?}: {why}"));
            }
        }
    }
    for (key, value) in meta.get("annotations").entries() {
        if let Some(why) = bad_qualified_name(key) {
            ctx.error(
                "GEN-02",
                &value,
                format!("annotation key {key:?} {why}"),
                "",
            );
            set_upstream(
                ctx,
                format!("metadata.annotations: Invalid value: {key:?}: {why}"),
            );
        }
    }
}

fn set_upstream(ctx: &mut Ctx, text: String) {
    if let Some(p) = ctx.out.last_mut() {
        p.upstream = Some(text.into());
    }
}

/// Kubernetes' `IsQualifiedName`: `[prefix/]name`, the prefix a DNS subdomain of at most 253
/// characters, the name at most 63 characters of alphanumerics, `-`, `_` and `.`, starting
/// and ending alphanumeric.
pub fn bad_qualified_name(key: &str) -> Option<String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(p) = prefix {
        if p.is_empty() {
            return Some("has an empty prefix before '/'".into());
        }
        if p.len() > 253 || !is_dns_subdomain(p) {
            return Some(format!(
                "has the prefix {p:?}, which must be a lowercase DNS subdomain of at most 253 characters"
            ));
        }
    }
    if name.is_empty() {
        return Some("has an empty name".into());
    }
    if name.len() > 63 {
        return Some(format!(
            "has a name part of {} characters: at most 63",
            name.len()
        ));
    }
    if !is_label_text(name) {
        return Some("must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character".into());
    }
    None
}

/// Kubernetes' `IsValidLabelValue`.
pub fn bad_label_value(v: &str) -> Option<String> {
    if v.is_empty() {
        return None;
    }
    if v.len() > 63 {
        return Some(format!(
            "is {} characters long: must be no more than 63 characters",
            v.len()
        ));
    }
    if !is_label_text(v) {
        return Some("must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character".into());
    }
    None
}

fn is_label_text(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// A lowercase RFC 1123 subdomain (without the length check).
pub fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|part| {
            let b = part.as_bytes();
            !b.is_empty()
                && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
                && (b[b.len() - 1].is_ascii_lowercase() || b[b.len() - 1].is_ascii_digit())
                && b.iter()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_keys_and_values_as_kubernetes_checks_them() {
        assert_eq!(bad_qualified_name("app"), None);
        assert_eq!(bad_qualified_name("fabric.githedgehog.com/vpc"), None);
        assert!(bad_qualified_name("Fabric.x/vpc").is_some());
        assert!(bad_qualified_name("a/-b").is_some());
        assert!(bad_qualified_name(&"x".repeat(64)).is_some());
        assert_eq!(bad_label_value(&"x".repeat(63)), None);
        assert!(bad_label_value(&"x".repeat(64)).is_some());
        assert_eq!(bad_label_value(""), None);
        assert!(bad_label_value("a b").is_some());
    }
}
