"""Memory maps of the ST boards and the "does it fit?" verdict.

Sizes and where they come from:

- STM32H747I-DISCO (part STM32H747XI): 2 MiB of internal flash; internal data RAM = AXI-SRAM
  512 KiB + SRAM1 128 + SRAM2 128 + SRAM3 32 + SRAM4 64 + DTCM 128 = 992 KiB (ITCM, 64 KiB, holds
  code and the 4 KiB backup SRAM is left out); on the board 256 Mbit of SDRAM (32 MiB) and
  2 x 512 Mbit of Quad-SPI NOR flash (128 MiB). Source: ST datasheet DS12930 (STM32H747xI/G,
  "Memories" section) and user manual UM2411 (STM32H747I-DISCO).
- STM32N6570-DK: the memory pools STEdgeAI uses for the N6, as its default pool file
  ``stm32n6.mpool`` declares them and as the public generate report of
  AlexGraefe/STM32N6Example @ 8becbb20eb0643f4fff7197f44ec6bf554ae4e9b
  (``st_ai_output/network_generate_report.txt``, "Memory usage information", ST Edge AI Core
  3.0.0) prints them: flexMEM 0 B and cpuRAM1 0 B (not given to the NPU by default),
  cpuRAM2 1 MiB, npuRAM3..npuRAM6 448 KiB each, hyperRAM 32 MiB (external), octoFlash 112 MiB
  (external; the N6 has no internal user flash).
- STM32MP157F-DK2: 512 MiB DDR3L; STM32MP257F-DK: 4 GiB LPDDR4 (ST's board product pages).
  Linux boards: the verdict there only says whether the model fits in DDR at all.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    """One memory region of a board: ``kind`` is ``ram`` or ``flash``, ``placement`` is
    ``internal`` (on the chip) or ``external`` (on the board)."""

    name: str
    kind: str
    placement: str
    size_kib: float
    address: int | None = None


H7_REGIONS = (
    Region("internal_flash", "flash", "internal", 2048),
    Region("internal_ram", "ram", "internal", 992),
    Region("sdram", "ram", "external", 32768),
    Region("qspi_flash", "flash", "external", 131072),
)
#: The N6 pools in the order STEdgeAI's report lists them (address of the pool's first byte).
N6_REGIONS = (
    Region("cpuRAM2", "ram", "internal", 1024, 0x34100000),
    Region("npuRAM3", "ram", "internal", 448, 0x34200000),
    Region("npuRAM4", "ram", "internal", 448, 0x34270000),
    Region("npuRAM5", "ram", "internal", 448, 0x342E0000),
    Region("npuRAM6", "ram", "internal", 448, 0x34350000),
    Region("hyperRAM", "ram", "external", 32768, 0x90000000),
    Region("octoFlash", "flash", "external", 114688, 0x71000000),
)
MP1_REGIONS = (Region("ddr", "ram", "external", 512 * 1024),)
MP2_REGIONS = (Region("ddr", "ram", "external", 4 * 1024 * 1024),)


def capacity(regions: tuple[Region, ...], kind: str, placement: str) -> float:
    """KiB of ``kind`` memory at ``placement`` on a board."""
    return float(sum(r.size_kib for r in regions if r.kind == kind and r.placement == placement))


def memory_kib(regions: tuple[Region, ...]) -> tuple[tuple[str, int], ...]:
    """The map for ``Target.memory_kib``: every region, then the totals the verdicts use."""
    items = [(r.name, int(r.size_kib)) for r in regions]
    for kind in ("ram", "flash"):
        for placement in ("internal", "external"):
            parts = [r for r in regions if r.kind == kind and r.placement == placement]
            if len(parts) > 1:  # one region is its own total
                items.append((f"{placement}_{kind}_total", int(capacity(regions, kind, placement))))
    return tuple(items)


@dataclass(frozen=True)
class Fit:
    """Where ``need_kib`` of RAM or flash goes on a board."""

    need_kib: float
    internal_kib: float
    external_kib: float

    @property
    def fits_internal(self) -> bool:
        return self.need_kib <= self.internal_kib

    @property
    def fits_with_external(self) -> bool:
        return self.need_kib <= self.internal_kib + self.external_kib

    @property
    def verdict(self) -> str:
        if self.fits_internal:
            return "fits internal"
        return "needs external" if self.fits_with_external else "does not fit"


def fit(regions: tuple[Region, ...], kind: str, need_kib: float) -> Fit:
    """The verdict for ``need_kib`` of ``kind`` (``ram`` or ``flash``) on a board."""
    return Fit(need_kib, capacity(regions, kind, "internal"), capacity(regions, kind, "external"))


def place_in_pools(regions: tuple[Region, ...], activation_kib: float) -> tuple[float, float]:
    """Activations placed into the internal RAM pools by size, the rest in external RAM:
    ``(internal_kib, external_kib)``.

    This is a bound, not STEdgeAI's allocator: STEdgeAI places each buffer whole in one pool
    (or a virtual pool of adjacent ones) epoch by epoch, so it may leave part of the internal
    pools empty and spill earlier (docs/stm32.md).
    """
    internal = min(activation_kib, capacity(regions, "ram", "internal"))
    return internal, max(0.0, activation_kib - internal)


def npu_pools(regions: tuple[Region, ...]) -> list:
    """The internal RAM pools an NPU plan places buffers into, in the memory map's order: each
    internal RAM region, adjacent regions of one size sharing a name prefix (npuRAM3..npuRAM6)
    joined as one banked pool. Empty for a board without such pools (no region address)."""
    from zoo_bench.estimate.placement import Pool

    internal = [r for r in regions if r.kind == "ram" and r.placement == "internal" and r.address is not None]
    pools: list = []
    group: list[Region] = []

    def flush() -> None:
        if group:
            name = group[0].name if len(group) == 1 else f"{group[0].name}-{group[-1].name}"
            pools.append(Pool(name, sum(r.size_kib for r in group), len(group)))
            group.clear()

    for r in internal:
        prefix = r.name.rstrip("0123456789")
        if group and (group[0].name.rstrip("0123456789") != prefix or group[0].size_kib != r.size_kib):
            flush()
        group.append(r)
    flush()
    return pools
