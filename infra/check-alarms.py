#!/usr/bin/env python3
"""Check that infra/template.yaml watches everything that can hold a lost event.

Every SQS queue has a CloudWatch alarm on one of its own metrics, every function an alarm
on its Errors and one on its Throttles, and every alarm tells the AlarmTopic. Run by
`make lint-infra` (so by `make test`); exits 1 and names what is unwatched.
"""
import sys
from pathlib import Path

from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parents[1]


def reference(value):
    """The logical id a dimension value points at (!Ref X or !GetAtt X.Attr)."""
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            return target[0] if isinstance(target, list) else str(target).split(".")[0]
    return None


def main(path: Path) -> int:
    template, matches = decode(str(path))
    if template is None:
        print(f"check-alarms: cannot read {path}: {matches}", file=sys.stderr)
        return 1
    resources = template.get("Resources", {})
    watched = {}  # logical id -> metric names of its alarms
    problems = []
    for lid, res in resources.items():
        if res.get("Type") != "AWS::CloudWatch::Alarm":
            continue
        props = res.get("Properties", {})
        actions = props.get("AlarmActions") or []
        if not any(reference(a) == "AlarmTopic" for a in actions):
            problems.append(f"alarm {lid} does not tell the AlarmTopic")
        for dimension in props.get("Dimensions") or []:
            target = reference(dimension.get("Value"))
            if target:
                watched.setdefault(target, set()).add(props.get("MetricName"))
    for lid, res in resources.items():
        kind = res.get("Type")
        if kind == "AWS::SQS::Queue" and not watched.get(lid):
            problems.append(f"queue {lid} has no alarm")
        if kind == "AWS::Serverless::Function":
            for metric in ("Errors", "Throttles"):
                if metric not in watched.get(lid, set()):
                    problems.append(f"function {lid} has no alarm on {metric}")
    for problem in problems:
        print(f"check-alarms: {problem}", file=sys.stderr)
    if not problems:
        queues = sum(1 for r in resources.values() if r.get("Type") == "AWS::SQS::Queue")
        print(f"check-alarms: {queues} queues and every function watched")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "infra" / "template.yaml"))
