"""The ``carepolicy`` command line: one module per command, each named here.

A command module holds ``add_parser(sub)`` and ``run(args, stdout, stderr) -> int`` and
imports only the standard library and :mod:`.common` at its top, so building the parser
(``carepolicy --help``) never loads the engine: each ``run`` imports what it uses.
"""

from . import diff, evaluate, explain, graph, inputs, migrate, population, reliability, schema, stream, test, timeline, validate

COMMANDS = {
    "validate": validate,
    "test": test,
    "evaluate": evaluate,
    "stream": stream,
    "explain": explain,
    "inputs": inputs,
    "graph": graph,
    "timeline": timeline,
    "diff": diff,
    "population": population,
    "schema": schema,
    "migrate": migrate,
    "reliability": reliability,
}
"""Every command by the name it is run as, in the order ``carepolicy --help`` lists them."""
