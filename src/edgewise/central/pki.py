"""The central's own certificate authority: signs the southbound server's and sites' certificates.

Created at first start in `<data-dir>/pki/` (private keys mode 0600). Site certificates
carry the site id as subject CN and as `URI:urn:edgewise:site:<id>`; only clientAuth.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from edgewise.central.files import private_dir, write_private

log = logging.getLogger(__name__)

SITE_URI_PREFIX = "urn:edgewise:site:"
CA_LIFETIME = dt.timedelta(days=3650)
SERVER_LIFETIME = dt.timedelta(days=397)


class CsrRejected(ValueError):
    """A certificate signing request that will not be signed, and why."""


@dataclass(frozen=True)
class IssuedCertificate:
    pem: str
    serial: str
    not_after: dt.datetime


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


class CertificateAuthority:
    """The CA on disk: loaded if present, created otherwise."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.ca_cert_path = directory / "ca.pem"
        self.ca_key_path = directory / "ca.key"
        self.server_cert_path = directory / "server.pem"
        self.server_key_path = directory / "server.key"
        private_dir(directory)
        if not self.ca_cert_path.exists():
            self._create_ca()
        self._key = serialization.load_pem_private_key(self.ca_key_path.read_bytes(), None)
        self.certificate = x509.load_pem_x509_certificate(self.ca_cert_path.read_bytes())

    @property
    def ca_pem(self) -> str:
        return self.ca_cert_path.read_text()

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the CA certificate, as sites pin it: hex pairs joined by ':'."""
        return self.certificate.fingerprint(hashes.SHA256()).hex(":")

    def _create_ca(self) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Edgewise central CA")])
        now = _now()
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + CA_LIFETIME)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .sign(key, hashes.SHA256())
        )
        write_private(self.ca_key_path, _key_pem(key))
        write_private(self.ca_cert_path, certificate.public_bytes(serialization.Encoding.PEM))

    def _sign(self, builder: x509.CertificateBuilder) -> x509.Certificate:
        key = self._key
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return builder.issuer_name(self.certificate.subject).sign(key, hashes.SHA256())

    def ensure_server_certificate(self, hostnames: tuple[str, ...]) -> None:
        """A server certificate for `hostnames`, renewed when they change or it nears expiry."""
        if self.server_cert_path.exists():
            current = x509.load_pem_x509_certificate(self.server_cert_path.read_bytes())
            names = current.extensions.get_extension_for_class(x509.SubjectAlternativeName)
            wanted = {_general_name(h) for h in hostnames}
            fresh = current.not_valid_after_utc - _now() > dt.timedelta(days=30)
            if fresh and set(names.value) == wanted:
                return
        key = ec.generate_private_key(ec.SECP256R1())
        now = _now()
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0])]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + SERVER_LIFETIME)
            .add_extension(
                x509.SubjectAlternativeName([_general_name(h) for h in hostnames]), critical=False
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        )
        certificate = self._sign(builder)
        write_private(self.server_key_path, _key_pem(key))
        write_private(self.server_cert_path, certificate.public_bytes(serialization.Encoding.PEM))

    def sign_site(self, site_id: str, csr_pem: str, lifetime: dt.timedelta) -> IssuedCertificate:
        """Signs a site's CSR; the CSR's subject is ignored, the site id is what counts."""
        try:
            csr = x509.load_pem_x509_csr(csr_pem.encode())
        except (ValueError, TypeError) as exc:
            raise CsrRejected("the CSR is not a PEM certificate signing request") from exc
        try:
            valid = csr.is_signature_valid
        except (InvalidSignature, ValueError, TypeError):
            valid = False
        if not valid:
            raise CsrRejected("the CSR's signature does not verify")
        public_key = csr.public_key()
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            if public_key.curve.name not in ("secp256r1", "secp384r1"):
                raise CsrRejected(
                    f"EC curve {public_key.curve.name} is not accepted (P-256, P-384)"
                )
        elif isinstance(public_key, rsa.RSAPublicKey):
            if public_key.key_size < 2048:
                raise CsrRejected(f"an RSA key of {public_key.key_size} bits is too short (2048+)")
        else:
            raise CsrRejected("only EC P-256/P-384 and RSA 2048+ keys are accepted")
        now = _now()
        not_after = now + lifetime
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, site_id)]))
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(not_after)
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.UniformResourceIdentifier(SITE_URI_PREFIX + site_id)]
                ),
                critical=False,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        )
        certificate = self._sign(builder)
        return IssuedCertificate(
            certificate.public_bytes(serialization.Encoding.PEM).decode(),
            format(certificate.serial_number, "x"),
            not_after,
        )

    def server_context(self, handshakes: Callable[[str], None] | None = None) -> ssl.SSLContext:
        """TLS for the southbound listener: client certificates optional at the handshake
        (enrollment has none), verified against this CA when presented. `handshakes` is told
        how every handshake ends, `completed` or `refused` (the channel's counters)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.server_cert_path, self.server_key_path)
        context.load_verify_locations(cafile=self.ca_cert_path)
        context.verify_mode = ssl.CERT_OPTIONAL
        context.num_tickets = 0
        context.sslobject_class = _RefusalLoggingSSLObject
        if handshakes is not None:  # a class per context: no counter shared between centrals
            context.sslobject_class = type(
                "_CountingSSLObject",
                (_RefusalLoggingSSLObject,),
                {"handshakes": staticmethod(handshakes)},
            )
        return context


class _RefusalLoggingSSLObject(ssl.SSLObject):
    """Logs a handshake the central refuses (a certificate of another CA, an expired one):
    such a connection never reaches the application, and asyncio is silent about it."""

    handshakes: Callable[[str], None] | None = None  # set on a subclass by server_context

    def do_handshake(self) -> None:
        try:
            super().do_handshake()
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            raise
        except ssl.SSLError as exc:
            why = getattr(exc, "verify_message", None) or exc.reason or str(exc)
            log.warning("refused a TLS handshake on the sites' channel: %s", why)
            if self.handshakes is not None:
                self.handshakes("refused")
            raise
        if self.handshakes is not None:
            self.handshakes("completed")


def _general_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def site_of_certificate(der: bytes) -> tuple[str, str] | None:
    """(site id, serial hex) from a verified client certificate, or None if it names no site."""
    certificate = x509.load_der_x509_certificate(der)
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return None
    for uri in names.value.get_values_for_type(x509.UniformResourceIdentifier):
        if uri.startswith(SITE_URI_PREFIX):
            return uri.removeprefix(SITE_URI_PREFIX), format(certificate.serial_number, "x")
    return None
