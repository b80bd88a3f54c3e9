//! Print simulated vs formula figures for M/M/n and M/M/n+M (exploration aid).
use hotline_erlang::{Traffic, predict};
use hotline_sim::scenario::erlang_model;

fn main() {
    let args: Vec<f64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap())
        .collect();
    let (n, erl, aht, pat, calls, reps) = (
        args[0] as u32,
        args[1],
        args[2],
        args[3],
        args[4] as u64,
        args[5] as u32,
    );
    let patience = (pat > 0.0).then_some(pat);
    let cph = erl / aht * 3600.0;
    let mut s = erlang_model(cph, aht, n, 20.0, patience, 0.0);
    s.run.calls = Some(calls);
    s.replications = reps;
    if let Some(seed) = args.get(6) {
        s.seed = *seed as u64;
    }
    let sc = s.compile().unwrap();
    let r = hotline_sim::run(&sc, &mut |_, _| {});
    let p = predict(&Traffic::per_hour(cph, aht, patience).unwrap(), n, 20.0).unwrap();
    let o = &r.overall;
    for (k, e, f) in [
        ("p_wait", o.p_wait, p.p_wait),
        ("SL", o.service_level, p.service_level),
        ("ASA", o.asa_seconds, p.asa_seconds),
        ("p_ab", o.p_abandon, p.p_abandon),
        ("occ", o.occupancy, p.occupancy),
    ] {
        let e = e.unwrap();
        println!(
            "{k:8} sim {:.5} ± {:.5}  formula {:.5}  covered {}",
            e.mean,
            e.ci95.unwrap(),
            f,
            e.covers(f)
        );
    }
    println!("{:.0} calls/s", r.calls_per_second);
}
