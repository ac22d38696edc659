"""The parsed models of onboarded NSDs, and the software of onboarded VNF packages: content
never changes once onboarded, so each is parsed once per process. One `NsdModels` per process
root (serve, a worker replica, a test), passed to the operations that need a model; nothing is
kept at module level."""

from __future__ import annotations

from collections import OrderedDict

from sqlalchemy.orm import Session

from edgewise.central.services.errors import Conflict
from edgewise.central.store.tables import CatalogItemRow, NsInstanceRow
from edgewise.tosca import Nsd, TypeCache, Vnfd, load_bytes
from edgewise.tosca.software import Reading, read_package

KEPT = 256  # models kept (least recently used go first)


class NsdModels:
    """Parsed NSDs by (NsdInfo id, checksum), at most `capacity` of them."""

    def __init__(self, types: TypeCache | None = None, capacity: int = KEPT) -> None:
        self.types = types or TypeCache()  # the parsed type files the NSDs share
        self.capacity = capacity
        self._models: OrderedDict[tuple[str, str], Nsd] = OrderedDict()
        self._software: OrderedDict[tuple[str, str], Reading] = OrderedDict()
        self._vnfds: OrderedDict[tuple[str, str], Vnfd] = OrderedDict()

    def software(self, row: CatalogItemRow) -> Reading:
        """What an onboarded VNF package's VNFD says of its VNF as software (tosca.software)."""
        assert row.content is not None  # onboarded
        key = (row.id, row.checksum or "")
        reading = self._software.get(key)
        if reading is None:
            reading = read_package(row.content, types=self.types)
            self._software[key] = reading
            while len(self._software) > self.capacity:
                self._software.popitem(last=False)
        self._software.move_to_end(key)
        return reading

    def vnfd(self, row: CatalogItemRow) -> Vnfd:
        """The VNFD of an onboarded VNF package (its flavours, versions)."""
        assert row.content is not None  # onboarded
        key = (row.id, row.checksum or "")
        vnfd = self._vnfds.get(key)
        if vnfd is None:
            result = load_bytes(row.content, "package.zip", cache=self.types)
            if not isinstance(result.descriptor, Vnfd):
                raise Conflict(f"VNF package {row.id} no longer loads: {result.problems[:1]}")
            vnfd = self._vnfds[key] = result.descriptor
            while len(self._vnfds) > self.capacity:
                self._vnfds.popitem(last=False)
        self._vnfds.move_to_end(key)
        return vnfd

    def load(self, row: CatalogItemRow) -> Nsd:
        """The NSD's model; Conflict when onboarded content no longer loads (a newer loader)."""
        assert row.content is not None  # onboarded
        key = (row.id, row.checksum or "")
        nsd = self._models.get(key)
        if nsd is not None:
            self._models.move_to_end(key)
            return nsd
        content = row.content
        name = "package.zip" if content[:2] == b"PK" else "nsd.yaml"
        result = load_bytes(content, name, cache=self.types)
        if not isinstance(result.descriptor, Nsd):
            raise Conflict(f"NSD {row.id} no longer loads: {result.problems[:1]}")
        self._models[key] = result.descriptor
        while len(self._models) > self.capacity:
            self._models.popitem(last=False)
        return result.descriptor

    def of_instance(self, session: Session, ns: NsInstanceRow) -> Nsd:
        """The model of the NSD the NS instance is of."""
        row = session.get(CatalogItemRow, ns.nsd_info_id)
        assert row is not None  # the foreign key keeps it
        return self.load(row)
