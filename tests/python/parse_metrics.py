"""A parser that is not ours: the Prometheus project's Python client reads the text the
router's /metrics served (OpenMetrics), from stdin.

Usage: parse_metrics.py < scraped.txt
Prints one JSON object: each sample's name, labels and value, and each family's type.
"""

import json
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families


def main():
    families = list(text_string_to_metric_families(sys.stdin.read()))
    print(
        json.dumps(
            {
                "types": {f.name: f.type for f in families},
                "samples": [
                    {"name": s.name, "labels": s.labels, "value": s.value}
                    for f in families
                    for s in f.samples
                ],
            }
        )
    )


if __name__ == "__main__":
    main()
