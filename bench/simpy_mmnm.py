"""M/M/n+M (Erlang A) in SimPy: the reference the hotline simulator is compared with.

The same model as `hotline bench sim`: Poisson arrivals, exponential handle times and
exponential patience, one queue, first come first served. Prints simulated calls per
second of wall time and the measured service level, ASA and abandon rate.

    python3 bench/simpy_mmnm.py --calls 1000000 --json
"""

import argparse
import json
import random
import time

import simpy


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--calls", type=int, default=1_000_000)
    p.add_argument("--agents", type=int, default=500)
    p.add_argument("--erlangs", type=float, default=480.0)
    p.add_argument("--aht", type=float, default=240.0)
    p.add_argument("--patience", type=float, default=120.0)
    p.add_argument("--sl-seconds", type=float, default=20.0)
    p.add_argument("--seed", type=int, default=1000)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()

    rng = random.Random(a.seed)
    rate = a.erlangs / a.aht  # calls per second
    warmup = a.calls // 10  # like hotline: a tenth more calls as warm-up, all counted in the speed
    stats = {"answered": 0, "within": 0, "abandoned": 0, "wait": 0.0}

    env = simpy.Environment()
    agents = simpy.Resource(env, capacity=a.agents)

    def caller(i):
        arrived = env.now
        patience = rng.expovariate(1.0 / a.patience)
        with agents.request() as req:
            got = yield req | env.timeout(patience)
            wait = env.now - arrived
            measured = i >= warmup
            if req in got:
                if measured:
                    stats["answered"] += 1
                    stats["wait"] += wait
                    stats["within"] += wait <= a.sl_seconds
                yield env.timeout(rng.expovariate(1.0 / a.aht))
            elif measured:
                stats["abandoned"] += 1

    def source():
        for i in range(warmup + a.calls):
            yield env.timeout(rng.expovariate(rate))
            env.process(caller(i))

    env.process(source())
    t0 = time.perf_counter()
    env.run()
    wall = time.perf_counter() - t0
    total = warmup + a.calls
    ended = stats["answered"] + stats["abandoned"]
    out = {
        "model": f"M/M/{a.agents}+M",
        "calls_simulated": total,
        "wall_seconds": wall,
        "calls_per_second": total / wall,
        "service_level": stats["within"] / ended,
        "asa_seconds": stats["wait"] / max(stats["answered"], 1),
        "p_abandon": stats["abandoned"] / ended,
        "simpy": simpy.__version__,
    }
    if a.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k:>16}: {v}")


if __name__ == "__main__":
    main()
