"""conveyor/__init__ loads the client classes and the dataclasses of _types on first use
(PEP 562 __getattr__), so `conveyor broker` starts without dataclasses (docs/benchmarks.md S7)."""
import subprocess
import sys

import conveyor


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                          timeout=60).stdout


def test_import_conveyor_and_cli_do_not_load_dataclasses_or_the_client_module():
    out = _run("import sys, conveyor, conveyor.cli; "
               "print(sorted(m for m in ('dataclasses', 'conveyor._types', 'conveyor.client') if m in sys.modules))")
    assert out.strip() == "[]"


def test_every_public_name_resolves_and_star_import_works():
    for name in conveyor.__all__:
        assert getattr(conveyor, name) is not None, name
    assert set(conveyor.__all__) <= set(dir(conveyor))
    ns: dict = {}
    exec("from conveyor import *", ns)
    assert ns["Broker"] is conveyor.Broker
    assert ns["TopicPartition"] is conveyor.TopicPartition
    assert ns["OFFSET_BEGINNING"] == conveyor.OFFSET_BEGINNING


def test_unknown_attribute_raises_attribute_error():
    try:
        conveyor.NoSuchThing  # noqa: B018
    except AttributeError as e:
        assert "NoSuchThing" in str(e)
    else:
        raise AssertionError("conveyor.NoSuchThing did not raise")


def test_lazy_names_are_the_module_objects():
    from conveyor import client, _types
    assert conveyor.Producer is client.Producer
    assert conveyor.GroupLag is _types.GroupLag
