"""Real boards over SSH, shared by every board plugin (NXP i.MX, STM32MP, RDK X5).

- :mod:`.inventory`: ``boards.toml``, the boards zoo-bench can reach, and which one serves a target;
- :mod:`.ssh`: the SSH transport (run, push, fetch, time limits, retries on a dropped connection);
- :mod:`.ssh_options`: what a boards.toml may ask of ``ssh`` (allow-listed ``-o`` options, host,
  user and ProxyJump syntax, bounds);
- :mod:`.dead_boards`: boards given up on, remembered for the rest of the run across stage processes;
- :mod:`.session`: ``SshBoardRunner`` (the base of board runners), ``board_session`` (a run
  directory on the board) and the board failure types;
- :mod:`.benchmark_model`: the one TFLite ``benchmark_model`` benchmark (argv, parsing, figures);
- :mod:`.loopback`: a board on loopback for tests (a real sshd, a stand-in ``benchmark_model``);
- :mod:`.tflite_report`: parsers of TFLite ``benchmark_model`` logs and of the Python benchmark's report;
- :mod:`.litert_bench`: the benchmark script run with a board's Python TFLite runtime.

docs/boards.md is the user's guide. Nothing here imports a vendor package or a heavy framework.
"""
