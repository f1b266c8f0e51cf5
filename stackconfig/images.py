"""Images: imported (public, private with credentials, another Azure registry), already there, built from
the user's folder or built in the registry (filled or squashed), and the registry itself."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Literal

from pydantic import Field, StrictBool, StrictInt, StrictStr, model_validator

from stackconfig import fields as f
from stackconfig.base import ConfigModel, Problems, raise_if

# Docker refuses images deeper than 127 layers; the base image brings at least one.
MAX_SYNTHETIC_LAYERS = 120
# ACR task agents hold the filled layers twice (build + push); the blog's image is 5 000 MB.
MAX_SYNTHETIC_IMAGE_MB = 20_000


def default_image_name(target: str) -> str:
    """`azure-vote-front:v1` -> `azure-vote-front-v1`: unique because targets are unique."""
    return re.sub(r"[^a-z0-9-]+", "-", target.lower()).strip("-")


class _InRegistry(ConfigModel):
    target: f.RegistryTarget = Field(description="`repo:tag` inside the registry.")

    @property
    def repository(self) -> str:
        return self.target.rsplit(":", 1)[0]

    @property
    def tag(self) -> str:
        return self.target.rsplit(":", 1)[1]


class CredentialsConfig(ConfigModel):
    """How the import signs in to a private source registry (what `az acr import --username/--password` sends)."""

    username: f.RegistryUsername = Field(description="User name at the source registry.")
    password_key: f.ConfigKeyName = Field(
        alias="passwordKey",
        description="Name of the secret config key holding the password or token: set it with "
        "`pulumi config set --secret <passwordKey> <password>` (read as `acr-streaming-ab:<passwordKey>`).",
    )


class BuildConfig(ConfigModel):
    """An image built by an ACR task from a folder of the user's (the folder is sent as the build context)."""

    context: StrictStr = Field(
        description="The folder sent to the ACR task: below the project directory, not the directory itself; "
        "`.git`, `venv` and `.venv` are left out, and it may be at most 512 MiB as a tar."
    )
    dockerfile: StrictStr = Field("Dockerfile", description="The Dockerfile, relative to `context`.")

    @model_validator(mode="after")
    def _in_project(self) -> BuildConfig:
        # Pulumi runs the program in the project directory; the build provider reads the folder from there.
        raise_if(self.problems(Path.cwd()))
        return self

    def problems(self, base: Path) -> Problems:
        found: Problems = []
        folder = base / self.context
        outside = _outside_project(self.context, base)
        if outside:
            found.append((("context",), f"{self.context!r} {outside}; allowed: a folder inside the project, e.g. app"))
            return found
        if not folder.is_dir():
            found.append((("context",), f"{self.context!r} is not a folder here ({base}); allowed: an existing folder"))
            return found
        relative = PurePosixPath(self.dockerfile)
        if relative.is_absolute() or ".." in relative.parts or not (folder / relative).is_file():
            found.append(
                (
                    ("dockerfile",),
                    f"{self.dockerfile!r} is not a file inside {self.context!r}; allowed: a path relative to "
                    "the context folder, e.g. Dockerfile",
                )
            )
        return found


def _outside_project(context: str, base: Path) -> str | None:
    """Why `context` is not a folder below the project directory `base` (None when it is).

    The whole folder is uploaded to Azure: the project root (stack files, venv) or a folder elsewhere
    on the machine would send far more than the image needs.
    """
    if not context or PurePosixPath(context).is_absolute() or Path(context).is_absolute():
        return "is not a path relative to the project directory"
    if ".." in PurePosixPath(context.replace("\\", "/")).parts:
        return "leaves the project directory ('..')"
    root = base.resolve()
    resolved = (base / context).resolve()
    if resolved == root:
        return "is the project directory itself (its stack files and venv would be uploaded)"
    if not resolved.is_relative_to(root):
        return "resolves to a folder outside the project directory"
    return None


ImageOrigin = Literal["import", "existing", "build"]


class ImageConfig(_InRegistry):
    """An image of the user's choosing: imported (public or private), already in the registry, or built."""

    name: f.ImageName = Field("", description="Key in the `images` output; default: the target with `:`/`/` as `-`.")
    source: f.ImageSource | None = Field(
        None,
        description="Reference to import, `registry/repo:tag` or `@sha256:` (public unless `credentials` or "
        "`sourceRegistryId` says how to reach it); leave out with `existing` or `build`.",
    )
    credentials: CredentialsConfig | None = Field(
        None, description="Sign-in for a private `source` registry; the password stays a Pulumi secret."
    )
    source_registry_id: f.RegistryResourceId | None = Field(
        None,
        alias="sourceRegistryId",
        description="Import `source` from this Azure registry (its resource id) with your own Azure identity, "
        "no password.",
    )
    existing: StrictBool = Field(
        False, description="The target is already in the registry: nothing is imported; its digest is read."
    )
    build: BuildConfig | None = Field(None, description="Build the target from your folder with an ACR task.")
    streaming: StrictBool = Field(True, description="Create and confirm a streaming artifact for it.")

    @model_validator(mode="after")
    def _default_name(self) -> ImageConfig:
        found: Problems = []
        given = [key for key, on in (("source", self.source), ("existing", self.existing), ("build", self.build)) if on]
        if not given:
            found.append(
                (
                    ("source",),
                    "required key is missing (unless existing: true or build); allowed: exactly one of source, "
                    "existing: true, build",
                )
            )
        elif len(given) > 1:
            found.append(
                ((given[-1],), f"{' and '.join(given)} given; allowed: exactly one of source, existing: true, build")
            )
        for key, value in (("credentials", self.credentials), ("sourceRegistryId", self.source_registry_id)):
            if value is not None and self.source is None:
                found.append(((key,), "only an imported image has a source registry; allowed: with source"))
        if self.credentials is not None and self.source_registry_id is not None:
            found.append(
                (
                    ("credentials",),
                    "an Azure registry given by sourceRegistryId is read with your Azure identity; "
                    "allowed: credentials or sourceRegistryId, not both",
                )
            )
        raise_if(found)
        return self if self.name else self.model_copy(update={"name": default_image_name(self.target)})

    @property
    def origin(self) -> ImageOrigin:
        return "existing" if self.existing else "build" if self.build is not None else "import"


class SyntheticImageConfig(_InRegistry):
    """An image built in the registry by an ACR task: filled (`sizeMb` + `layers`) or a squashed copy."""

    name: f.ImageName = Field("", description="Key in the `images` output; empty: from the target.")
    streaming: StrictBool = Field(True, description="Create and confirm a streaming artifact for it.")
    size_mb: StrictInt | None = Field(
        None, alias="sizeMb", description=f"Filled images: payload size in MB, 1-{MAX_SYNTHETIC_IMAGE_MB}."
    )
    layers: StrictInt | None = Field(
        None, description=f"Filled images: layers to spread it over, 1-{MAX_SYNTHETIC_LAYERS}."
    )
    fill: Literal["zero", "random"] = Field(
        "random",
        description="`zero` compresses to almost nothing (the blog's image); `random` makes the network part real.",
    )
    base_image: StrictStr = Field(
        "mcr.microsoft.com/azurelinux/base/core:3.0",
        alias="baseImage",
        description="A configured image name, or a full image reference.",
    )
    squash_of: StrictStr | None = Field(
        None,
        alias="squashOf",
        description="Name of a configured image to copy into a single layer (instead of sizeMb/layers).",
    )
    startup_read_mb: StrictInt | None = Field(
        None,
        alias="startupReadMb",
        description="Filled images: MB of the payload the container reads before it reports ready "
        "(default: all of it; 0 = the blog's bare start).",
    )
    tools_image: StrictStr = Field(
        "busybox",
        alias="toolsImage",
        description="Filled images: the image whose static /bin/busybox runs the start-up read and the "
        "readiness endpoint (a configured image name, or a full image reference).",
    )

    @model_validator(mode="after")
    def _default_name(self) -> SyntheticImageConfig:
        return self if self.name else self.model_copy(update={"name": default_image_name(self.target)})

    @property
    def read_mb(self) -> int | None:
        """MB read at start-up (filled images only): the configured share, else the whole payload."""
        if self.squash_of is not None:
            return None
        return self.startup_read_mb if self.startup_read_mb is not None else self.size_mb

    def shape_problems(self) -> Problems:
        """Filled or squashed, never both (checked with the stack, so that its other rules run too)."""
        found: Problems = []
        if self.squash_of is not None:
            if self.size_mb is not None or self.layers is not None:
                found.append(((), "give either squashOf or sizeMb+layers, not both"))
            if self.startup_read_mb is not None:
                found.append(
                    (
                        ("startupReadMb",),
                        "a squashed copy keeps its source's own start command; allowed: only on filled images",
                    )
                )
        else:
            if self.layers is None or not 1 <= self.layers <= MAX_SYNTHETIC_LAYERS:
                found.append(
                    (("layers",), f"{self.layers!r} layers cannot be built; allowed: 1-{MAX_SYNTHETIC_LAYERS}")
                )
            if self.size_mb is None or not 1 <= self.size_mb <= MAX_SYNTHETIC_IMAGE_MB:
                found.append((("sizeMb",), f"{self.size_mb!r} MB cannot be built; allowed: 1-{MAX_SYNTHETIC_IMAGE_MB}"))
            elif self.startup_read_mb is not None and not 0 <= self.startup_read_mb <= self.size_mb:
                found.append(
                    (
                        ("startupReadMb",),
                        f"{self.startup_read_mb} MB cannot be read from a {self.size_mb} MB payload; "
                        f"allowed: 0-{self.size_mb}",
                    )
                )
            if self.size_mb is not None and self.layers and self.layers >= 1 and self.size_mb < self.layers:
                found.append(
                    (
                        ("sizeMb",),
                        f"{self.size_mb} MB cannot be split into {self.layers} layers of at "
                        "least 1 MB; allowed: sizeMb >= layers",
                    )
                )
        return found


class RegistryConfig(ConfigModel):
    sku: Literal["Basic", "Standard", "Premium"] = Field("Premium", description="Artifact streaming needs Premium.")
    existing_resource_group: f.ResourceGroupName | None = Field(
        None, alias="existingResourceGroup", description="Deploy into this resource group instead of creating one."
    )
    auto_convert_repositories: tuple[f.RepositoryName, ...] = Field(
        (), alias="autoConvertRepositories", description="Repositories whose every pushed image ACR converts."
    )
    public_network_access: Literal["Enabled", "Disabled"] = Field(
        "Enabled",
        alias="publicNetworkAccess",
        description="The registry's public endpoint. `Disabled` needs private connectivity this project does "
        "not declare (a private endpoint the nodes and the deploying machine reach).",
    )
    protect: StrictBool | None = Field(
        None,
        description="Pulumi `protect` on the registry (an edit that would replace it, or a destroy, stops "
        "instead of deleting it with every image and artifact); default: true in every stack that holds the "
        "registry. Teardown: set it to false, `pulumi up`, then `pulumi destroy`.",
    )
