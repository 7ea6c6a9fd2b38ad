"""ST STM32 plugin (STM32H7 MCU, STM32N6 NPU, STM32MP Linux): not built yet.

Registers nothing until its issue lands: STEdgeAI compiler adapter, TFLM-based activation RAM
estimate and STM32MP board runner over SSH. Kept as a package so the entry point resolves.
"""
