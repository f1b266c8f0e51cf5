"""A one-factor sweep: filled images and paired workloads that differ in one factor only.

`sweep` names the factor (start-up read share, payload size, layer count or fill), its values and
the factors held constant; it becomes synthetic images and `single` workloads, each labelled with the
factor and its value (and what the report's physical-limit line needs), every one paired on the same
streaming and standard pool. A read-share sweep needs one image; the others one image per value.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictInt, StrictStr

from stackconfig import fields as f
from stackconfig.base import ConfigModel, Problems
from stackconfig.cluster import PoolConfig
from stackconfig.images import MAX_SYNTHETIC_IMAGE_MB, MAX_SYNTHETIC_LAYERS, SyntheticImageConfig
from stackconfig.workload_rules import PAIR_IDENTICAL
from stackconfig.workloads import FactorConfig

Factor = Literal["readPercent", "sizeMb", "layers", "fill"]
FILLS = ("random", "zero")
# Each factor's values when `values` is not given.
DEFAULT_VALUES: dict[str, tuple[int | str, ...]] = {
    "readPercent": (0, 1, 5, 25, 100),
    "sizeMb": (250, 1000, 4000),
    "layers": (1, 8, 28),
    "fill": FILLS,
}
# The field that holds each factor constant when it is not the one swept.
_FIELD_OF = {"readPercent": "read_percent", "sizeMb": "size_mb", "layers": "layers", "fill": "fill"}
# Short names keep `<workload>-<pool>` arm names within 40 characters.
_SHORT = {"readPercent": "read", "sizeMb": "size", "layers": "layers", "fill": "fill"}


class SweepConfig(ConfigModel):
    """One factor swept over its values, the others held at the values given here."""

    factor: Factor = Field("readPercent", description="The factor the workloads differ in.")
    values: tuple[StrictInt | StrictStr, ...] | None = Field(
        None,
        description="Its values, at least two, no repeats; default: readPercent 0, 1, 5, 25, 100; sizeMb "
        "250, 1000, 4000; layers 1, 8, 28; fill random, zero.",
    )
    size_mb: StrictInt = Field(2000, alias="sizeMb", description="Payload MB when not swept.")
    layers: StrictInt = Field(1, description="Layers when not swept.")
    fill: Literal["random", "zero"] = Field(
        "random",
        description="Fill when not swept: `random` (the network part is real); `zero` only to reproduce the blog.",
    )
    read_percent: StrictInt = Field(
        100, alias="readPercent", description="% of the payload read before ready when not swept."
    )
    pools: tuple[StrictStr, ...] = Field(
        (), description="The streaming pool and the standard pool every workload pairs on."
    )
    replicas: f.Replicas = Field(1, description="Pods per arm.")
    base_image: StrictStr = Field(
        SyntheticImageConfig.model_fields["base_image"].default,
        alias="baseImage",
        description="As syntheticImages[].baseImage.",
    )
    tools_image: StrictStr = Field(
        SyntheticImageConfig.model_fields["tools_image"].default,
        alias="toolsImage",
        description="As syntheticImages[].toolsImage.",
    )

    @property
    def swept(self) -> tuple[int | str, ...]:
        return self.values if self.values is not None else DEFAULT_VALUES[self.factor]

    def point(self, value: int | str) -> dict[str, int | str]:
        """The four factors at one value of the swept one."""
        point: dict[str, int | str] = {
            "sizeMb": self.size_mb,
            "layers": self.layers,
            "fill": self.fill,
            "readPercent": self.read_percent,
        }
        point[self.factor] = value
        return point

    def problems(self) -> Problems:
        found: Problems = []
        values = self.swept
        if len(values) < 2 or len(set(values)) < len(values):
            found.append((("values",), f"{list(values)}: a sweep needs two or more different values"))
        for j, value in enumerate(values):
            found.extend((("values", j), message) for message in _value_problems(self.factor, value))
        for key, value in (("sizeMb", self.size_mb), ("layers", self.layers), ("readPercent", self.read_percent)):
            found.extend(((key,), message) for message in _value_problems(key, value))
        if _FIELD_OF[self.factor] in self.model_fields_set:
            found.append(
                (
                    (self.factor,),
                    f"is not used while sweep.factor is {self.factor} (sweep.values gives its values); allowed: "
                    "leave it out, or sweep another factor",
                )
            )
        if not found:
            for value in values:
                p = self.point(value)
                if int(p["sizeMb"]) < int(p["layers"]):
                    found.append(
                        ((), f"{p['sizeMb']} MB cannot be split into {p['layers']} layers; allowed: sizeMb >= layers")
                    )
        return found

    def pool_problems(self, pools: dict[str, PoolConfig]) -> Problems:
        """One streaming and one standard pool, configured and identical except artifactStreaming."""
        named = [pools.get(name) for name in self.pools]
        if len(self.pools) != 2 or None in named:
            return [
                (
                    ("pools",),
                    f"{list(self.pools)} are not two configured pools; allowed: [<streaming pool>, <standard pool>] "
                    f"of {', '.join(pools) or '(no pool)'}",
                )
            ]
        streaming, standard = named
        assert streaming is not None and standard is not None
        if not streaming.artifact_streaming or standard.artifact_streaming:
            return [
                (("pools",), "the first pool must stream and the second must not; allowed: [<streaming>, <standard>]")
            ]
        differ = [
            key for key, attribute in PAIR_IDENTICAL if getattr(streaming, attribute) != getattr(standard, attribute)
        ]
        if differ:
            return [
                (
                    ("pools",),
                    f"the pools differ in {', '.join(differ)}; allowed: pools identical except artifactStreaming",
                )
            ]
        return []

    def images(self) -> tuple[SyntheticImageConfig, ...]:
        out: dict[str, SyntheticImageConfig] = {}
        for value in self.swept:
            p = self.point(value)
            name = _image_name(p)
            out[name] = SyntheticImageConfig.model_validate(
                {
                    "name": name,
                    "target": f"crossover/{name}:v1",
                    "sizeMb": p["sizeMb"],
                    "layers": p["layers"],
                    "fill": p["fill"],
                    "baseImage": self.base_image,
                    "toolsImage": self.tools_image,
                    "streaming": True,
                }
            )
        return tuple(out.values())

    def workloads(self, pools: dict[str, PoolConfig]) -> list[dict]:
        """Plain workload entries (validated with the stack's own), each with its factor."""
        streaming = pools[self.pools[0]]
        out = []
        for value in self.swept:
            p = self.point(value)
            read_mb = read_mb_of(int(p["sizeMb"]), int(p["readPercent"]))
            factor = FactorConfig(name=self.factor, value=str(value)).model_copy(
                update={
                    "payload_mb": p["sizeMb"],
                    "read_mb": read_mb,
                    "fill": p["fill"],
                    "vm_size": streaming.vm_size,
                    "os_disk_type": streaming.os_disk_type,
                }
            )
            out.append(
                {
                    "name": f"x-{_SHORT[self.factor]}-{value}",
                    "template": "single",
                    "image": _image_name(p),
                    "replicas": self.replicas,
                    "startupReadMb": read_mb,
                    "factor": factor,
                    "arms": [{"pool": pool, "pair": "crossover"} for pool in self.pools],
                }
            )
        return out


def read_mb_of(size_mb: int, percent: int) -> int:
    """MB read for a share of the payload; any share above 0 reads at least 1 MB."""
    return 0 if percent == 0 else max(1, size_mb * percent // 100)


def _image_name(point: dict[str, int | str]) -> str:
    return f"x-s{point['sizeMb']}-l{point['layers']}-{point['fill']}"


def _value_problems(factor: str, value: int | str) -> list[str]:
    if factor == "fill":
        return [] if value in FILLS else [f"{value!r} is not a fill; allowed: {', '.join(FILLS)}"]
    low, high = {"readPercent": (0, 100), "sizeMb": (1, MAX_SYNTHETIC_IMAGE_MB), "layers": (1, MAX_SYNTHETIC_LAYERS)}[
        factor
    ]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return [f"{value!r} is not a {factor} value; allowed: whole numbers {low}-{high}"]
    return []
