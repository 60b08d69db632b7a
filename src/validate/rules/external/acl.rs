//! EXTA-04: an ExternalAttachment's inbound ACL (`externalattachment_types.go`
//! `ACLSpec.Validate` :102, wrapped as "invalid inboundACL: " at :349). Upstream stops at the
//! first failing statement; fgd checks every statement, and per statement each of its parts
//! (sequence number, action, protocol, prefixes, TCP filters, ICMP, ports).

use std::collections::HashSet;

use crate::validate::rules::util::parse_cidr;
use crate::validate::rules::{Ctx, F};

/// `ACLUserMinSeq`: lower sequence numbers are the fabric's own security rules.
const USER_MIN_SEQ: i128 = 10;
const ACTIONS: [&str; 4] = ["deny", "discard", "permit", "transit"];
const PROTOCOLS: [&str; 4] = ["ip", "tcp", "udp", "icmp"];
/// Each TCP flag and its negation.
const FLAGS: [(&str, &str); 6] = [
    ("fin", "notFin"),
    ("syn", "notSyn"),
    ("rst", "notRst"),
    ("psh", "notPsh"),
    ("ack", "notAck"),
    ("urg", "notUrg"),
];

fn fail(ctx: &mut Ctx, at: &F, msg: String, inner: String) {
    ctx.error(
        "EXTA-04",
        at,
        format!("inboundACL: {msg}"),
        &format!("invalid inboundACL: {inner}"),
    );
}

pub(super) fn check(ctx: &mut Ctx, acl: &F) {
    let mut seqs: HashSet<i128> = HashSet::new();
    for stmt in acl.get("statements").items() {
        check_statement(ctx, &stmt, &mut seqs);
    }
}

fn check_statement(ctx: &mut Ctx, stmt: &F, seqs: &mut HashSet<i128>) {
    // Absent fields are Go's zero values (Default wrote them: EXTA-09).
    let seq_f = stmt.get("seq");
    let seq = seq_f.int();
    if seq < USER_MIN_SEQ {
        fail(
            ctx,
            &seq_f,
            format!("seq {seq} is reserved for the fabric's security rules: use 10 or more"),
            format!("sequence number {seq} is reserved for security rules (user-defined rules must use seq >= {USER_MIN_SEQ})"),
        );
    } else if !seqs.insert(seq) {
        fail(
            ctx,
            &seq_f,
            format!("seq {seq} is used by an earlier statement"),
            format!("duplicate sequence number {seq}"),
        );
    }
    let action = stmt.get("action");
    if !ACTIONS.contains(&action.str()) {
        fail(
            ctx,
            &action,
            format!(
                "statement {seq}: action {:?} is not one of {}",
                action.str(),
                ACTIONS.join(", ")
            ),
            format!("invalid action {:?} in statement {seq}", action.str()),
        );
    }
    let protocol_f = stmt.get("protocol");
    let protocol = protocol_f.str();
    if !PROTOCOLS.contains(&protocol) {
        fail(
            ctx,
            &protocol_f,
            format!(
                "statement {seq}: protocol {protocol:?} is not one of {}",
                PROTOCOLS.join(", ")
            ),
            format!("invalid protocol {protocol:?} in statement {seq}"),
        );
    }
    for field in ["srcPrefix", "dstPrefix"] {
        let f = stmt.get(field);
        let text = f.str();
        if text.is_empty() {
            fail(
                ctx,
                &f,
                format!("statement {seq}: {field} is required (a CIDR, or any)"),
                format!("{field} is required in statement {seq}"),
            );
        } else if text != "any" && parse_cidr(text).is_err() {
            fail(
                ctx,
                &f,
                format!(
                    "statement {seq}: {field} {text:?} is neither a CIDR like 10.0.0.0/8 nor any"
                ),
                format!("invalid {field} {text:?} in statement {seq}"),
            );
        }
    }
    check_tcp_filters(ctx, stmt, seq, protocol);
    for field in ["icmpType", "icmpCode"] {
        let f = stmt.get(field);
        if f.present() && protocol != "icmp" {
            fail(
                ctx,
                &f,
                format!("statement {seq}: {field} applies to protocol icmp only, not {protocol:?}"),
                format!("icmpType/icmpCode can only be used with icmp protocol in statement {seq}"),
            );
            break;
        }
    }
    let (begin_f, end_f) = (stmt.get("portRangeBegin"), stmt.get("portRangeEnd"));
    let (begin, end) = (begin_f.int(), end_f.int());
    if begin > 0 || end > 0 {
        let at = if begin > 0 { &begin_f } else { &end_f };
        if protocol != "tcp" && protocol != "udp" {
            fail(
                ctx,
                at,
                format!(
                    "statement {seq}: a port range applies to tcp or udp only, not {protocol:?}"
                ),
                format!("portRange can only be used with tcp or udp protocol in statement {seq}"),
            );
        } else if begin == 0 {
            fail(
                ctx,
                &begin_f,
                format!("statement {seq}: portRangeBegin must be at least 1"),
                format!("portRangeBegin must be >= 1 in statement {seq}"),
            );
        } else if begin > end {
            fail(
                ctx,
                &begin_f,
                format!("statement {seq}: portRangeBegin {begin} is above portRangeEnd {end}"),
                format!("portRangeBegin must be <= portRangeEnd in statement {seq}"),
            );
        }
    }
}

fn check_tcp_filters(ctx: &mut Ctx, stmt: &F, seq: i128, protocol: &str) {
    let filters = stmt.get("tcpFilters");
    if !filters.present() {
        return;
    }
    if protocol != "tcp" {
        fail(
            ctx,
            &filters,
            format!("statement {seq}: tcpFilters apply to protocol tcp only, not {protocol:?}"),
            format!("tcpFilters can only be used with tcp protocol in statement {seq}"),
        );
        return;
    }
    let set = |k: &str| filters.get(k).bool();
    let established = filters.get("established");
    if established.bool() && FLAGS.iter().any(|(a, b)| set(a) || set(b)) {
        fail(
            ctx,
            &established,
            format!("statement {seq}: established cannot be combined with single TCP flags"),
            format!(
                "established is mutually exclusive with individual TCP flags in statement {seq}"
            ),
        );
    }
    if let Some((flag, not)) = FLAGS.iter().find(|(a, b)| set(a) && set(b)) {
        fail(
            ctx,
            &filters.get(not),
            format!("statement {seq}: {flag} and {not} contradict each other"),
            format!("contradictory TCP flags (flag and its negation) in statement {seq}"),
        );
    }
}
