//! Classification: what ingest does with one parsed document. Pure functions over a
//! `serde_yaml::Value`, so `validate`, `ingest` and the dashboard all decide the same way.

pub mod kinds;

use serde::Serialize;
use serde_yaml::Value;

use crate::yaml::{self, Incompat};

pub use kinds::{KindInfo, Role};

/// (group, kind, namespace, name): what makes two documents the same object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Identity {
    pub group: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.kind, self.name)?;
        if self.namespace != "default" {
            write!(f, " (namespace {})", self.namespace)?;
        }
        Ok(())
    }
}

/// Why a document is not managed. The codes are stable: scripts match on them. Named once,
/// by strum's attributes; serde writes and reads those names (`as_str`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::EnumIter,
)]
#[strum(serialize_all = "kebab-case")]
pub enum ReasonCode {
    /// The file is not UTF-8 text.
    Encoding,
    /// The file or document exceeds fgd's size caps.
    TooLarge,
    /// Nesting beyond fgd's depth cap.
    TooDeep,
    /// Aliases would expand beyond fgd's node cap.
    AliasExpansion,
    YamlSyntax,
    MultipleDocuments,
    NotAMapping,
    #[strum(serialize = "missing-apiVersion")]
    MissingApiVersion,
    MissingKind,
    MissingName,
    /// apiVersion, kind, metadata, name or namespace of the wrong YAML type.
    BadField,
    /// A List object: its items are not split out.
    ListObject,
    /// Not a Hedgehog group at all (ConfigMap, Deployment, ...).
    NotHedgehog,
    /// A githedgehog.com group fgd does not manage (installer config, removed groups).
    ForeignHedgehogGroup,
    /// A kind the group does not define.
    UnknownKind,
    /// A version the fabric no longer serves (v1alpha2).
    UnservedVersion,
    /// A kind the fabric generates itself (Agent, ...).
    GeneratedKind,
    BadName,
    NameTooLong,
    Namespace,
    /// Valid YAML that kustomize (Argo CD, Flux) cannot read: a `%` directive, a non-string
    /// mapping key, `---` followed by a node on a line other than the first.
    KustomizeIncompatible,
    /// Two different definitions of one object in the same batch.
    Conflict,
    /// The whole file holds no document (empty or only comments).
    NoDocuments,
    /// Put there by an operator with `fgd move`.
    Operator,
    /// The cluster would refuse what the object says: its spec breaks the CRD schema or an
    /// admission rule (the rule ids are in the reason file).
    InvalidSpec,
}

impl ReasonCode {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl Serialize for ReasonCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for ReasonCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ReasonCode, D::Error> {
        let name = std::borrow::Cow::<str>::deserialize(d)?;
        name.parse()
            .map_err(|_| serde::de::Error::custom(format!("{name:?} is not a reason code")))
    }
}

/// Which field a rejection is about, so the caller can point at its line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Document,
    ApiVersion,
    Kind,
    Metadata,
    Name,
    Namespace,
}

impl Field {
    /// Block-style key path of the field, for finding its line in the text.
    pub fn key_path(self) -> &'static [&'static str] {
        match self {
            Field::Document => &[],
            Field::ApiVersion => &["apiVersion"],
            Field::Kind => &["kind"],
            Field::Metadata => &["metadata"],
            Field::Name => &["metadata", "name"],
            Field::Namespace => &["metadata", "namespace"],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub code: ReasonCode,
    pub field: Field,
    pub message: String,
    /// The identity, when the document got far enough to have one.
    pub identity: Option<Identity>,
    /// For `KustomizeIncompatible`: which class of construct.
    pub class: Option<Incompat>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Managed {
        identity: Identity,
        info: &'static KindInfo,
    },
    Unmanaged(Rejection),
}

impl Verdict {
    /// `managed/`-relative path of a managed object: `<plural>/<name>.yaml`.
    pub fn managed_path(info: &KindInfo, identity: &Identity) -> String {
        format!("{}/{}.yaml", info.plural, identity.name)
    }
}

fn reject(code: ReasonCode, field: Field, message: String, identity: Option<Identity>) -> Verdict {
    Verdict::Unmanaged(Rejection {
        code,
        field,
        message,
        identity,
        class: None,
    })
}

/// A document kustomize reads otherwise than fgd, by its class (`Incompat`).
fn incompatible(
    class: Incompat,
    field: Field,
    detail: &str,
    identity: Option<Identity>,
) -> Verdict {
    Verdict::Unmanaged(Rejection {
        code: ReasonCode::KustomizeIncompatible,
        field,
        message: class.message(detail),
        identity,
        class: Some(class),
    })
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// Look up a required string field; a wrong type is reported as such, not as "missing".
fn required_str<'v>(
    map: &'v serde_yaml::Mapping,
    key: &str,
    missing: ReasonCode,
    field: Field,
    what: &str,
) -> Result<&'v str, Box<Verdict>> {
    match yaml::field(map, key) {
        None | Some(Value::Null) => Err(Box::new(reject(
            missing,
            field,
            format!("{what} is missing"),
            None,
        ))),
        Some(Value::String(s)) if s.trim().is_empty() => Err(Box::new(reject(
            missing,
            field,
            format!("{what} is empty"),
            None,
        ))),
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(Box::new(reject(
            ReasonCode::BadField,
            field,
            format!("{what} must be a string, found {}", type_name(other)),
            None,
        ))),
    }
}

fn list_message(kind: &str) -> String {
    format!("{kind} is a list of objects; fgd manages one object per document: write each item as its own document")
}

/// Decide the fate of one parsed document.
pub fn classify(doc: &Value) -> Verdict {
    let map = match doc {
        Value::Mapping(m) => m,
        other => {
            return reject(
                ReasonCode::NotAMapping,
                Field::Document,
                format!("the document is {}, not a Kubernetes object (a mapping with apiVersion, kind and metadata)", type_name(other)),
                None,
            )
        }
    };
    // kustomize applies `<<` merge keys, serde_yaml does not: a merged-in name, namespace or
    // annotation would make the object fgd files differ from the one the cluster gets. Looked
    // for in the values, so one brought in by an alias is found too.
    if map.contains_key("<<") {
        return incompatible(
            Incompat::MergeKey,
            Field::Document,
            "a `<<` merge key at the top level: kustomize merges it, fgd does not, so the two could disagree on what the object is; write apiVersion, kind and metadata out",
            None,
        );
    }
    let api_version = match required_str(
        map,
        "apiVersion",
        ReasonCode::MissingApiVersion,
        Field::ApiVersion,
        "apiVersion",
    ) {
        Ok(s) => s,
        Err(v) => return *v,
    };
    let kind = match required_str(map, "kind", ReasonCode::MissingKind, Field::Kind, "kind") {
        Ok(s) => s,
        Err(v) => return *v,
    };
    let (group, version) = match api_version.rsplit_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    };
    // The name is read before the group checks so every rejection can name the object.
    let metadata = match yaml::field(map, "metadata") {
        None | Some(Value::Null) => None,
        Some(Value::Mapping(m)) if holds_merge_key(m) => {
            return incompatible(
                Incompat::MergeKey,
                Field::Metadata,
                "a `<<` merge key in metadata: kustomize merges it, fgd does not, so the two could disagree on the object's name, namespace or annotations; write the fields out",
                None,
            )
        }
        Some(Value::Mapping(m)) => Some(m),
        Some(other) => {
            return reject(
                ReasonCode::BadField,
                Field::Metadata,
                format!("metadata must be a mapping, found {}", type_name(other)),
                None,
            )
        }
    };
    // A List (`kubectl get -o yaml` output) seldom has a name: say what it is, not that.
    let named = metadata.is_some_and(|m| matches!(yaml::field(m, "name"), Some(Value::String(_))));
    if !named && kind.ends_with("List") && map.contains_key("items") {
        return reject(
            ReasonCode::ListObject,
            Field::Kind,
            list_message(kind),
            None,
        );
    }
    let name = match metadata.map(|m| {
        required_str(
            m,
            "name",
            ReasonCode::MissingName,
            Field::Name,
            "metadata.name",
        )
    }) {
        None => {
            return reject(
                ReasonCode::MissingName,
                Field::Metadata,
                "metadata.name is missing (no metadata)".into(),
                None,
            )
        }
        Some(Err(v)) => return *v,
        Some(Ok(n)) => n,
    };
    let namespace = match metadata.and_then(|m| yaml::field(m, "namespace")) {
        None | Some(Value::Null) => "default",
        Some(Value::String(s)) => s.as_str(),
        Some(other) => {
            return reject(
                ReasonCode::BadField,
                Field::Namespace,
                format!(
                    "metadata.namespace must be a string, found {}",
                    type_name(other)
                ),
                None,
            )
        }
    };
    let identity = Identity {
        group: group.to_string(),
        kind: kind.to_string(),
        namespace: if namespace.is_empty() {
            "default".into()
        } else {
            namespace.to_string()
        },
        name: name.to_string(),
    };
    let id = Some(identity.clone());

    if kind.ends_with("List") && map.contains_key("items") {
        return reject(ReasonCode::ListObject, Field::Kind, list_message(kind), id);
    }
    if !group.ends_with(".githedgehog.com") {
        return reject(
            ReasonCode::NotHedgehog,
            Field::ApiVersion,
            format!("{kind} ({api_version}) is not a Hedgehog object; fgd manages only *.githedgehog.com kinds"),
            id,
        );
    }
    if let Some((_, why)) = kinds::FOREIGN_HEDGEHOG_GROUPS
        .iter()
        .find(|(g, _)| *g == group)
    {
        return reject(
            ReasonCode::ForeignHedgehogGroup,
            Field::ApiVersion,
            format!("{kind} ({api_version}): {why}"),
            id,
        );
    }
    if !kinds::group_known(group) {
        return reject(
            ReasonCode::ForeignHedgehogGroup,
            Field::ApiVersion,
            format!("{kind} ({api_version}): fgd does not know the API group {group}"),
            id,
        );
    }
    let info = match kinds::lookup(group, kind) {
        Some(info) => info,
        None => {
            let hint = match kinds::lookup_ignoring_case(group, kind) {
                Some(k) => format!("; did you mean {}?", k.kind),
                None => {
                    let known: Vec<&str> = kinds::KINDS
                        .iter()
                        .filter(|k| k.group == group)
                        .map(|k| k.kind)
                        .collect();
                    format!("; it defines {}", known.join(", "))
                }
            };
            return reject(
                ReasonCode::UnknownKind,
                Field::Kind,
                format!("{group} has no kind {kind}{hint}"),
                id,
            );
        }
    };
    if version != info.served_version {
        return reject(
            ReasonCode::UnservedVersion,
            Field::ApiVersion,
            format!(
                "{api_version} is not served by the fabric: {kind} is served as {}/{} (update apiVersion, and check the spec against that version)",
                info.group, info.served_version
            ),
            id,
        );
    }
    if let Role::Generated(why) = info.role {
        return reject(
            ReasonCode::GeneratedKind,
            Field::Kind,
            format!("{kind} is not operator-managed: {why}"),
            id,
        );
    }
    if let Err(why) = check_name(name) {
        return reject(
            ReasonCode::BadName,
            Field::Name,
            format!("metadata.name {name:?} {why}"),
            id,
        );
    }
    if name.len() > info.max_name_len {
        let why = if info.max_name_len == kinds::MAX_NAME_LEN {
            format!(
                "Kubernetes takes up to 253, but fgd files the object as {}/{name}.yaml and a file name holds at most 255 bytes, so {kind} names in a managed fabric are at most {}",
                info.plural, info.max_name_len
            )
        } else {
            format!(
                "{kind} names are at most {} (the fabric's webhook)",
                info.max_name_len
            )
        };
        return reject(
            ReasonCode::NameTooLong,
            Field::Name,
            format!("metadata.name is {} characters; {why}", name.len()),
            id,
        );
    }
    if identity.namespace != "default" {
        return reject(
            ReasonCode::Namespace,
            Field::Namespace,
            format!(
                "namespace {:?}: Hedgehog objects live in the default namespace; remove metadata.namespace or set it to default",
                identity.namespace
            ),
            id,
        );
    }
    if let Some((field, key, value)) = metadata.and_then(not_text) {
        let map = field.trim_end_matches('s');
        return incompatible(
            Incompat::NotText,
            Field::Metadata,
            &format!("the {map} {key} has {} for its value, not text: kustomize (Argo CD, Flux) writes annotation values back as text ({{a: 1}} as an empty one) and the cluster takes only text for labels and annotations, so the object would not be the one fgd filed; quote the value", type_name(value)),
            id,
        );
    }
    if let Some(key) = metadata.and_then(reserved_annotation) {
        return incompatible(
            Incompat::ReservedAnnotation,
            Field::Metadata,
            &format!("the annotation {key} is in a domain kustomize (Argo CD, Flux) keeps for itself ({}): kustomize acts on such annotations (it leaves out an object marked local-config, renames one marked needsHashSuffix, drops or panics on its internal ones), so what it builds would not be the object fgd filed; remove the annotation", RESERVED_DOMAINS.join(", ")),
            id,
        );
    }
    Verdict::Managed { identity, info }
}

/// The annotation domains kustomize and its kyaml library act on: `config.kubernetes.io`
/// (`local-config`, `path`, `index`, ...), `internal.config.kubernetes.io` (`previousNames`,
/// `needsHashSuffix`, ...), `config.k8s.io` (`id`) and `kustomize.config.k8s.io` (`behavior`,
/// `needsHash`, ...), with any sub-domain: a whole class, not a list of today's keys.
const RESERVED_DOMAINS: [&str; 2] = ["config.kubernetes.io", "config.k8s.io"];

/// The first annotation key of `metadata` in a domain kustomize keeps for itself.
pub fn reserved_annotation(metadata: &serde_yaml::Mapping) -> Option<&str> {
    let Some(Value::Mapping(annotations)) = yaml::field(metadata, "annotations") else {
        return None;
    };
    annotations.keys().filter_map(Value::as_str).find(|key| {
        let Some((domain, _)) = key.rsplit_once('/') else {
            return false;
        };
        let domain = domain.to_ascii_lowercase();
        RESERVED_DOMAINS
            .iter()
            .any(|d| domain == *d || domain.strip_suffix(d).is_some_and(|sub| sub.ends_with('.')))
    })
}

/// The first label or annotation of `metadata` whose value is not a string: (its field,
/// `labels` or `annotations`, its key, its value).
pub fn not_text(metadata: &serde_yaml::Mapping) -> Option<(&'static str, String, &Value)> {
    ["labels", "annotations"].into_iter().find_map(|field| {
        let Some(Value::Mapping(m)) = yaml::field(metadata, field) else {
            return None;
        };
        m.iter().find(|(_, v)| !v.is_string()).map(|(k, v)| {
            let key = k.as_str().map_or_else(|| format!("{k:?}"), str::to_string);
            (field, key, v)
        })
    })
}

/// Whether a `<<` key stands anywhere in `m` (at any depth).
fn holds_merge_key(m: &serde_yaml::Mapping) -> bool {
    fn holds(v: &Value) -> bool {
        match v {
            Value::Mapping(m) => holds_merge_key(m),
            Value::Sequence(s) => s.iter().any(holds),
            Value::Tagged(t) => holds(&t.value),
            _ => false,
        }
    }
    m.contains_key("<<") || m.values().any(holds)
}

/// Lowercase RFC 1123 subdomain: labels of [a-z0-9-] that start and end alphanumeric, joined by
/// dots. This also guarantees the name cannot leave its folder (no `/`, no `..`, not hidden).
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("is empty".into());
    }
    if name.len() > 253 {
        return Err("is longer than 253 characters".into());
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err("has an empty part between dots (not an RFC 1123 name)".into());
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
        {
            let what = if c.is_ascii_uppercase() {
                format!("has the uppercase letter {c:?}; names must be lowercase (RFC 1123)")
            } else {
                format!(
                    "has the character {c:?}; names may use only a-z, 0-9, '-' and '.' (RFC 1123)"
                )
            };
            return Err(what);
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("must start and end with a letter or digit (RFC 1123)".into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Value {
        serde_yaml::from_str(text).expect("test yaml")
    }

    fn code(text: &str) -> ReasonCode {
        match classify(&doc(text)) {
            Verdict::Unmanaged(r) => r.code,
            Verdict::Managed { identity, .. } => panic!("managed: {identity}"),
        }
    }

    #[test]
    fn reason_codes_keep_the_names_scripts_match_on_in_text_and_in_json() {
        use strum::IntoEnumIterator;
        let names: Vec<&str> = ReasonCode::iter().map(ReasonCode::as_str).collect();
        assert_eq!(
            names,
            [
                "encoding",
                "too-large",
                "too-deep",
                "alias-expansion",
                "yaml-syntax",
                "multiple-documents",
                "not-a-mapping",
                "missing-apiVersion",
                "missing-kind",
                "missing-name",
                "bad-field",
                "list-object",
                "not-hedgehog",
                "foreign-hedgehog-group",
                "unknown-kind",
                "unserved-version",
                "generated-kind",
                "bad-name",
                "name-too-long",
                "namespace",
                "kustomize-incompatible",
                "conflict",
                "no-documents",
                "operator",
                "invalid-spec",
            ]
        );
        for c in ReasonCode::iter() {
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
            assert_eq!(serde_json::from_str::<ReasonCode>(&json).unwrap(), c);
        }
        assert!(serde_json::from_str::<ReasonCode>("\"missing-api-version\"").is_err());
    }

    #[test]
    fn merge_keys_in_the_head_are_refused_because_kustomize_would_apply_them() {
        let top = "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata: {name: a}\n<<: {metadata: {name: b}}\n";
        let meta = "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: a\n  <<: {namespace: kube-system}\n";
        // Deeper in metadata, and brought in by an alias, too.
        let annotations = "a: &a {config.kubernetes.io/local-config: \"true\"}\napiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: a\n  annotations:\n    <<: *a\n";
        let alias = "m: &m {name: a, labels: {<<: {x: y}}}\napiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata: *m\n";
        for text in [top, meta, annotations, alias] {
            match classify(&doc(text)) {
                Verdict::Unmanaged(r) => {
                    assert_eq!(r.code, ReasonCode::KustomizeIncompatible, "{text}");
                    assert_eq!(r.class, Some(Incompat::MergeKey), "{text}");
                    assert!(r.message.starts_with("merge-key: "), "{}", r.message);
                }
                v => panic!("{text}: {v:?}"),
            }
        }
        // In spec, a merge key is the object's own business.
        let spec = "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata: {name: a}\nspec:\n  <<: {x: 1}\n";
        assert!(matches!(classify(&doc(spec)), Verdict::Managed { .. }));
    }

    #[test]
    fn annotations_in_kustomizes_domains_are_refused_whatever_their_value() {
        for key in [
            "config.kubernetes.io/local-config",
            "config.kubernetes.io/index",
            "internal.config.kubernetes.io/previousNames",
            "internal.config.kubernetes.io/needsHashSuffix",
            "kustomize.config.k8s.io/behavior",
            "config.k8s.io/id",
            "Alpha.Config.Kubernetes.IO/x",
        ] {
            for value in ["\"true\"", "\"false\"", "\"\""] {
                let text = format!("apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: a\n  annotations:\n    {key}: {value}\n");
                match classify(&doc(&text)) {
                    Verdict::Unmanaged(r) => {
                        assert_eq!(r.class, Some(Incompat::ReservedAnnotation), "{text}");
                        assert!(r.message.contains(key), "{}", r.message);
                    }
                    v => panic!("{text}: {v:?}"),
                }
            }
        }
        for (field, value) in [
            ("labels", "1"),
            ("annotations", "true"),
            ("annotations", "{a: 1}"),
            ("labels", "~"),
        ] {
            let text = format!("apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: a\n  {field}:\n    k: {value}\n");
            match classify(&doc(&text)) {
                Verdict::Unmanaged(r) => assert_eq!(r.class, Some(Incompat::NotText), "{text}"),
                v => panic!("{text}: {v:?}"),
            }
        }
        for key in [
            "example.com/config.kubernetes.io",
            "notconfig.kubernetes.io/x",
            "owner",
        ] {
            let text = format!("apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: a\n  annotations:\n    {key}: x\n");
            assert!(
                matches!(classify(&doc(&text)), Verdict::Managed { .. }),
                "{text}"
            );
        }
    }

    #[test]
    fn a_valid_vpc_is_managed_under_vpcs() {
        let v = classify(&doc("apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: vpc-1\nspec: {}\n"));
        match v {
            Verdict::Managed { identity, info } => {
                assert_eq!(Verdict::managed_path(info, &identity), "vpcs/vpc-1.yaml");
                assert_eq!(identity.namespace, "default");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn connection_names_with_double_dashes_are_fine() {
        let v = classify(&doc("apiVersion: wiring.githedgehog.com/v1beta1\nkind: Connection\nmetadata:\n  name: leaf-01--mclag--leaf-02\n  namespace: default\n"));
        assert!(matches!(v, Verdict::Managed { .. }), "{v:?}");
    }

    #[test]
    fn each_rejection_has_its_own_code() {
        assert_eq!(code("- a\n- b\n"), ReasonCode::NotAMapping);
        assert_eq!(
            code("kind: VPC\nmetadata: {name: a}\n"),
            ReasonCode::MissingApiVersion
        );
        assert_eq!(
            code("apiVersion: vpc.githedgehog.com/v1beta1\nmetadata: {name: a}\n"),
            ReasonCode::MissingKind
        );
        assert_eq!(
            code("apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name:\n"),
            ReasonCode::MissingName
        );
        assert_eq!(
            code("apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\n"),
            ReasonCode::MissingName
        );
        assert_eq!(
            code("apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: 12\n"),
            ReasonCode::BadField
        );
        assert_eq!(
            code("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"),
            ReasonCode::NotHedgehog
        );
        assert_eq!(code("apiVersion: fabricator.githedgehog.com/v1beta1\nkind: Fabricator\nmetadata: {name: default}\n"), ReasonCode::ForeignHedgehogGroup);
        assert_eq!(
            code("apiVersion: vpc.githedgehog.com/v1beta1\nkind: Vpc\nmetadata: {name: a}\n"),
            ReasonCode::UnknownKind
        );
        assert_eq!(
            code("apiVersion: vpc.githedgehog.com/v1alpha2\nkind: VPC\nmetadata: {name: a}\n"),
            ReasonCode::UnservedVersion
        );
        assert_eq!(code("apiVersion: agent.githedgehog.com/v1beta1\nkind: Agent\nmetadata: {name: leaf-01}\n"), ReasonCode::GeneratedKind);
        assert_eq!(code("apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata: {name: TenantBlue}\n"), ReasonCode::BadName);
        assert_eq!(code("apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata: {name: production-tenant}\n"), ReasonCode::NameTooLong);
        assert_eq!(code("apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata: {name: a, namespace: fab}\n"), ReasonCode::Namespace);
        assert_eq!(
            code("apiVersion: v1\nkind: List\nitems: []\nmetadata: {name: a}\n"),
            ReasonCode::ListObject
        );
        // What `kubectl get -o yaml` prints: a List without a name.
        assert_eq!(
            code("apiVersion: v1\nkind: List\nitems: []\nmetadata: {resourceVersion: \"\"}\n"),
            ReasonCode::ListObject
        );
        assert_eq!(
            code("apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPCList\nitems: []\n"),
            ReasonCode::ListObject
        );
    }

    #[test]
    fn names_that_could_escape_the_folder_are_rejected() {
        for bad in [
            "../x", "a/b", ".", "..", ".hidden", "a..b", "-a", "a-", "a b", "a\0b", "A",
        ] {
            assert!(check_name(bad).is_err(), "{bad:?} accepted");
        }
        for good in ["a", "vpc-1", "leaf-01--mclag--leaf-02", "a.b", "0"] {
            assert!(check_name(good).is_ok(), "{good:?} rejected");
        }
    }

    #[test]
    fn names_may_be_250_but_not_251_characters() {
        let ok = "a".repeat(250);
        let long = "a".repeat(251);
        let t = |n: &str| {
            doc(&format!("apiVersion: wiring.githedgehog.com/v1beta1\nkind: Switch\nmetadata: {{name: {n}}}\n"))
        };
        assert!(matches!(classify(&t(&ok)), Verdict::Managed { .. }));
        assert!(matches!(
            classify(&t(&long)),
            Verdict::Unmanaged(Rejection {
                code: ReasonCode::NameTooLong,
                ..
            })
        ));
    }
}
