"""D-Robotics RDK X5 plugin (Horizon toolchain, BPU, hrt_model_exec): not built yet.

Registers nothing until its issue lands. Kept as a package so the entry point resolves.
"""
