"""The identity package's public surface, and the promise that it is pure."""

import ast
from pathlib import Path

import crm_profile.domain.identity as identity

PACKAGE = Path(identity.__file__).parent
PURE_IMPORTS = {"__future__", "collections", "dataclasses", "datetime", "functools",
                "itertools", "types", "typing"}


def test_the_identity_package_exports_exactly_its_public_surface() -> None:
    assert set(identity.__all__) == {
        "DEFAULT_LIMITS", "DEFAULT_PRIORITY", "BlockedMerge", "CurrentIdentity", "Decision",
        "Evidence", "EvolvingIdentity", "Identifier", "IdentifierLinked", "IdentifierMarkedShared",
        "IdentifierUnlinked", "IdentityRules", "MergeBlocked", "MergedAway", "NeverMerge",
        "Profile", "ProfileCreated", "ProfileUnmerged", "ProfilesMerged", "Resolution",
        "TouchpointAttributed", "TouchpointUnattributed", "affected_component", "apply",
        "decide", "evolve", "holding", "identifier_type", "identifiers_to_load", "make_identifier",
        "StateIndex", "reconcile", "resolve", "restrict",
        # splits
        "IdentifiersNotInProfile", "IdentifiersShared", "NotSeparable", "NothingToMove",
        "NothingWouldRemain", "ProfileMergedAway", "Split", "SplitRefused", "UnknownProfile",
        "split",
    }
    assert all(hasattr(identity, name) for name in identity.__all__)


def test_every_identity_module_declares_its_exports() -> None:
    for path in PACKAGE.glob("*.py"):
        assert "__all__" in path.read_text(), path.name


def test_the_identity_domain_imports_only_the_standard_library_and_itself() -> None:
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                root = node.module.split(".")[0]
                assert root in PURE_IMPORTS or node.module.startswith(
                    "crm_profile.domain.identity"), (path.name, node.module)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    assert alias.name.split(".")[0] in PURE_IMPORTS, (path.name, alias.name)
