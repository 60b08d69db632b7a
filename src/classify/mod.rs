//! Classification: what ingest does with one parsed document. Pure functions over a
//! `serde_yaml::Value`, so `validate`, `ingest` and the dashboard all decide the same way.

pub mod kinds;

use serde::Serialize;
use serde_yaml::Value;

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
    match map.get(key) {
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
    // kustomize applies `<<` merge keys, serde_yaml does not: a merged-in name or namespace
    // would make the object fgd files differ from the one the cluster gets.
    if map.contains_key("<<") {
        return reject(
            ReasonCode::BadField,
            Field::Document,
            "a `<<` merge key at the top level: kustomize merges it, fgd does not, so the two could disagree on what the object is; write apiVersion, kind and metadata out".into(),
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
    let metadata = match map.get("metadata") {
        None | Some(Value::Null) => None,
        Some(Value::Mapping(m)) if m.contains_key("<<") => {
            return reject(
                ReasonCode::BadField,
                Field::Metadata,
                "a `<<` merge key in metadata: kustomize merges it, fgd does not, so the two could disagree on the object's name or namespace; write the fields out".into(),
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
    let named = metadata.is_some_and(|m| matches!(m.get("name"), Some(Value::String(_))));
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
    let namespace = match metadata.and_then(|m| m.get("namespace")) {
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
        return reject(
            ReasonCode::NameTooLong,
            Field::Name,
            format!(
                "metadata.name {name:?} is {} characters; {kind} names are at most {}",
                name.len(),
                info.max_name_len
            ),
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
    // kustomize leaves an object marked local-config out of what it builds (unless the value
    // is exactly "false"): in managed/ it would never be applied.
    let local_config = metadata
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get(LOCAL_CONFIG))
        .filter(|v| v.as_str() != Some("false"));
    if local_config.is_some() {
        return reject(
            ReasonCode::KustomizeIncompatible,
            Field::Metadata,
            format!("the annotation {LOCAL_CONFIG}: kustomize (Argo CD, Flux) leaves such an object out of what it builds, so it would never be applied; remove the annotation (or set it to \"false\")"),
            id,
        );
    }
    Verdict::Managed { identity, info }
}

/// kustomize's marker for a file that configures it rather than the cluster.
const LOCAL_CONFIG: &str = "config.kubernetes.io/local-config";

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
        assert_eq!(code(top), ReasonCode::BadField);
        assert_eq!(code(meta), ReasonCode::BadField);
        // In spec, a merge key is the object's own business.
        let spec = "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata: {name: a}\nspec:\n  <<: {x: 1}\n";
        assert!(matches!(classify(&doc(spec)), Verdict::Managed { .. }));
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
    fn switch_names_may_be_62_but_not_63_characters() {
        let ok = "a".repeat(62);
        let long = "a".repeat(63);
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
