"""Exit statuses of ``python -m hub``; ``status`` follows the LSB init-script convention."""

OK = 0
FAILURE = 1  # refused (already running), could not listen, a forced exit or kill
USAGE = 2  # a bad flag, an unknown setting or a bad value

# ``status``
RUNNING = 0  # the PID lives and its port answers GET /health
STALE = 1  # a PID file whose process is gone (or whose PID another program now has)
NOT_RUNNING = 3  # no PID file
UNHEALTHY = 4  # the process lives but does not answer (starting, hung, or wrong port)
