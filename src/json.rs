//! JSON helpers shared by the commands.

use hotline_erlang::Prediction;
use hotline_sim::Estimate;
use serde_json::{Map, Value, json};

/// A number, or null when it is not finite (JSON has no infinity).
pub fn num(x: f64) -> Value {
    if x.is_finite() { json!(x) } else { Value::Null }
}

/// The standard figures of a prediction, under the keys scripts rely on.
pub fn prediction(p: &Prediction) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("agents".into(), json!(p.agents));
    m.insert("erlangs".into(), num(p.erlangs));
    m.insert("p_wait".into(), num(p.p_wait));
    m.insert("service_level".into(), num(p.service_level));
    m.insert("asa_seconds".into(), num(p.asa_seconds));
    m.insert("p_abandon".into(), num(p.p_abandon));
    m.insert("occupancy".into(), num(p.occupancy));
    m
}

/// Mean of an estimate (null when there is none).
pub fn mean(e: Option<Estimate>) -> Value {
    e.map_or(Value::Null, |e| num(e.mean))
}

/// 95 % half-width of an estimate (null with one replication).
pub fn ci(e: Option<Estimate>) -> Value {
    e.and_then(|e| e.ci95).map_or(Value::Null, num)
}
