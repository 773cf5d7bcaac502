"""The OpenSearch modules Scope needs, which the integ-test zip lacks, and how to lay them out.

Each `ModuleSpec` becomes a `modules/<name>/` folder with the jars from Maven Central and the
`plugin-descriptor.properties` (and security policy) that OpenSearch's Gradle build would have
generated.
"""

from __future__ import annotations

from dataclasses import dataclass

OPENSEARCH_VERSION = "2.19.6"
"""Newest 2.19 resolving on Maven Central (2.19.7 does not); 3.x would need Java 21+."""

DESCRIPTOR_JAVA_VERSION = "11"
"""What the official 2.19 module descriptors declare (the minimum, not the runtime)."""

_V = OPENSEARCH_VERSION
_ASM = "9.7"
_HTTPCORE = "4.4.16"

PAINLESS_POLICY = """\
grant {
  permission java.lang.RuntimePermission "createClassLoader";
  permission java.lang.RuntimePermission "getClassLoader";
};
"""
"""Painless compiles scripts into classes loaded by its own class loader."""

REINDEX_POLICY = """\
grant {
  permission java.net.SocketPermission "*", "connect";
};

grant codeBase "${codebase.opensearch-rest-client}" {
  permission java.net.NetPermission "getProxySelector";
};

grant codeBase "${codebase.httpasyncclient}" {
  permission java.net.NetPermission "getProxySelector";
};
"""
"""Reindex-from-remote opens sockets through the low-level REST client."""


@dataclass(frozen=True)
class ModuleSpec:
    """One `modules/<name>/` folder the integ-test-zip lacks.

    `artifacts` are `groupId:artifactId:version` jars copied into the folder; none may also be
    in OpenSearch's `lib/`, since the jar-hell check rejects a class present twice.
    """

    name: str
    description: str
    classname: str
    artifacts: tuple[str, ...]
    extended_plugins: tuple[str, ...] = ()
    security_policy: str | None = None


MODULES: tuple[ModuleSpec, ...] = (
    ModuleSpec(
        name="lang-painless",
        description="An easy, safe and fast scripting language for OpenSearch",
        classname="org.opensearch.painless.PainlessPlugin",
        artifacts=(
            f"org.opensearch.plugin:lang-painless:{_V}",
            f"org.opensearch.plugin:opensearch-scripting-painless-spi:{_V}",
            "org.antlr:antlr4-runtime:4.13.1",
            f"org.ow2.asm:asm:{_ASM}",
            f"org.ow2.asm:asm-analysis:{_ASM}",
            f"org.ow2.asm:asm-commons:{_ASM}",
            f"org.ow2.asm:asm-tree:{_ASM}",
            f"org.ow2.asm:asm-util:{_ASM}",
        ),
        security_policy=PAINLESS_POLICY,
    ),
    ModuleSpec(
        name="analysis-common",
        description='Adds "built in" analyzers to OpenSearch.',
        classname="org.opensearch.analysis.common.CommonAnalysisPlugin",
        artifacts=(f"org.opensearch.plugin:analysis-common:{_V}",),
        extended_plugins=("lang-painless",),
    ),
    ModuleSpec(
        name="mapper-extras",
        description="Adds advanced field mappers",
        classname="org.opensearch.index.mapper.MapperExtrasPlugin",
        artifacts=(f"org.opensearch.plugin:mapper-extras-client:{_V}",),
    ),
    ModuleSpec(
        name="percolator",
        description="Percolator module adds capability to index queries and query these queries "
        "by specifying documents",
        classname="org.opensearch.percolator.PercolatorPlugin",
        artifacts=(f"org.opensearch.plugin:percolator-client:{_V}",),
    ),
    ModuleSpec(
        name="reindex",
        description="The Reindex module adds APIs to reindex from one index to another or update "
        "documents in place.",
        classname="org.opensearch.index.reindex.ReindexPlugin",
        artifacts=(
            f"org.opensearch.plugin:reindex-client:{_V}",
            f"org.opensearch.client:opensearch-rest-client:{_V}",
            f"org.opensearch:opensearch-ssl-config:{_V}",
            "org.apache.httpcomponents:httpclient:4.5.14",
            f"org.apache.httpcomponents:httpcore:{_HTTPCORE}",
            "org.apache.httpcomponents:httpasyncclient:4.1.5",
            f"org.apache.httpcomponents:httpcore-nio:{_HTTPCORE}",
            "commons-codec:commons-codec:1.18.0",
            "commons-logging:commons-logging:1.2",
        ),
        security_policy=REINDEX_POLICY,
    ),
)
"""Assembled modules. The rest client's reactor-core and reactive-streams are already in lib/."""


def descriptor(module: ModuleSpec) -> str:
    properties = {
        "description": module.description,
        "version": OPENSEARCH_VERSION,
        "name": module.name,
        "classname": module.classname,
        "java.version": DESCRIPTOR_JAVA_VERSION,
        "opensearch.version": OPENSEARCH_VERSION,
        "custom.foldername": "",
        "extended.plugins": ",".join(module.extended_plugins),
        "has.native.controller": "false",
    }
    return "".join(f"{key}={value}\n" for key, value in properties.items())
