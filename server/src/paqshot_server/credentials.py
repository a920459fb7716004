"""The operator's C2PA signing identity: where its files are, loading it, and a self-signed one for testing.

Settings ``c2pa_cert_file`` / ``c2pa_key_file`` name a PEM certificate chain (signing certificate first) and
its PEM private key; empty means ``<home>/c2pa/cert.pem`` and ``<home>/c2pa/key.pem``. A production operator
puts a certificate from a CA there (the C2PA trust list names which CAs viewers trust). ``paqshot init
--self-signed-cert`` makes a test chain with the ``cryptography`` package: a self-signed root and an ES256
signing certificate under it (c2pa refuses a signing certificate that is its own issuer), named after the
brand. Viewers show it as untrusted: it proves the file is unchanged, not who made it.
"""

from __future__ import annotations

import datetime
import io
import os
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from PIL import Image

from .imaging.provenance import Provenance, SigningIdentity, sign
from .settings import Settings

SELF_SIGNED_MARK = "self-signed test certificate"  # in the subject, so any viewer shows what it is
# RFC 5280 (Appendix A.1: ub-common-name, ub-organization-name, ub-organizational-unit-name): a name attribute
# holds at most 64 characters; ``cryptography`` counts them as UTF-8 bytes and refuses more (breaker14 B14-5: a
# brand name of 18 characters or more made "<brand> content signer (self-signed test certificate)" 65+ and
# `init --self-signed-cert` exit 70).
MAX_NAME_BYTES = 64


@dataclass(frozen=True)
class CredentialFiles:
    cert: Path
    key: Path
    root: Path  # the test root (self-signed chains only): readers that should trust it are given this file


def credential_files(settings: Settings) -> CredentialFiles:
    """Where the signing certificate and key are for ``settings``."""
    folder = settings.home / "c2pa"
    cert = Path(settings.c2pa_cert_file) if settings.c2pa_cert_file else folder / "cert.pem"
    key = Path(settings.c2pa_key_file) if settings.c2pa_key_file else folder / "key.pem"
    return CredentialFiles(cert, key, folder / "root.pem")


class IdentityError(ValueError):
    """The operator's certificate or key is installed but cannot sign: the message says which file and why."""


def load_identity(settings: Settings, now: float | None = None) -> SigningIdentity | None:
    """The signing identity, or None when credentials are off or no certificate is installed.

    The files are checked as c2pa would meet them at every job's end (breaker17 B17-4: an expired, mismatched or
    unreadable certificate started, passed every check and then failed every job in generic words): the chain
    parses, the key loads and is the signing certificate's, the certificate is valid at ``now`` (Unix seconds;
    default the clock), and c2pa signs a small image with them.

    Raises:
        IdentityError: the files exist but cannot sign, in words naming the file and the fix.
    """
    if not settings.content_credentials:
        return None
    files = credential_files(settings)
    if not (files.cert.is_file() and files.key.is_file()):
        return None
    chain_pem, key_pem = files.cert.read_bytes(), files.key.read_bytes()
    try:
        signer = x509.load_pem_x509_certificates(chain_pem)[0]
    except ValueError:
        raise IdentityError(f"the certificate file {files.cert} holds no PEM certificate") from None
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise IdentityError(f"the key file {files.key} is not an unencrypted PEM private key ({exc})") from None
    if _public(key) != _public(signer):
        raise IdentityError(f"the key file {files.key} is not the private key of the certificate in {files.cert}")
    identity = SigningIdentity(chain_pem, key_pem, _algorithm(key), signer.not_valid_after_utc.timestamp())
    problem = validity_problem(identity, now) or _refused_by_c2pa(identity)
    if problem:
        raise IdentityError(f"the certificate in {files.cert} {problem}")
    return identity


def validity_problem(identity: SigningIdentity, now: float | None = None) -> str | None:
    """Words for a signing certificate that has ended at ``now`` (Unix seconds; default the clock), else None."""
    now = time.time() if now is None else now
    if identity.not_after is None or now <= identity.not_after:
        return None
    ended = datetime.datetime.fromtimestamp(identity.not_after, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"expired on {ended}: install a renewed one"


def _refused_by_c2pa(identity: SigningIdentity) -> str | None:
    """c2pa's own words when it will not sign a small JPEG with ``identity`` (a certificate without the key usage
    or the extended key usage C2PA requires, a chain in the wrong order …), else None."""
    import c2pa  # native library: loaded on first use, not at import

    sample = io.BytesIO()
    Image.new("RGB", (16, 16), "white").save(sample, "JPEG")
    facts = Provenance("signing check", "0", "classical", "classical", ("signing check", None))
    try:
        sign(sample.getvalue(), "image/jpeg", facts, identity, (sample.getvalue(), "image/jpeg"), "check.jpeg")
    except c2pa.C2paError as exc:
        return f"is refused by the C2PA library: {exc}"
    return None


def _public(subject: object) -> bytes:
    """The DER SubjectPublicKeyInfo of a private key or a certificate."""
    public = subject.public_key()  # type: ignore[attr-defined]
    return bytes(public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))


def _algorithm(key: object) -> str:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return {256: "ES256", 384: "ES384", 521: "ES512"}[key.curve.key_size]
    if isinstance(key, rsa.RSAPrivateKey):
        return "PS256"
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ED25519"
    raise ValueError(f"unsupported signing key type {type(key).__name__}: use EC P-256/384/521, RSA or Ed25519")


def make_self_signed(settings: Settings, *, days: int = 365) -> CredentialFiles:
    """Write a self-signed test chain (root + ES256 signing certificate) for the brand; key files are 0600.

    Raises:
        FileExistsError: a certificate or key is already there (never overwrite an operator's identity).
    """
    files = credential_files(settings)
    for path in (files.cert, files.key):
        if path.exists():
            raise FileExistsError(f"{path} exists: remove it first to make a new test certificate")
    brand = settings.brand.product_name
    now = datetime.datetime.now(datetime.UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name(brand, "test root")
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(sign_certs=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name(brand, "content signer"))
        .issuer_name(root_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(sign_certs=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    files.cert.parent.mkdir(parents=True, exist_ok=True)
    files.cert.write_bytes(leaf.public_bytes(pem) + root.public_bytes(pem))
    files.root.write_bytes(root.public_bytes(pem))
    fd = os.open(files.key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return files


def _name(brand: str, role: str) -> x509.Name:
    """A test certificate's subject: O the brand's name, OU its role ("test root", "content signer"), CN the
    brand's name and :data:`SELF_SIGNED_MARK` (what a C2PA viewer shows as the signer), each cut to
    :data:`MAX_NAME_BYTES` of UTF-8 (a cut name ends in "…"; the mark is never cut)."""
    mark = f" ({SELF_SIGNED_MARK})"
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, _fit(brand, MAX_NAME_BYTES)),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, role),
            x509.NameAttribute(NameOID.COMMON_NAME, _fit(brand, MAX_NAME_BYTES - len(mark)) + mark),
        ]
    )


def _fit(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` bytes of UTF-8: cut between characters, with "…" at the end, when longer."""
    if len(text.encode()) <= limit:
        return text
    cut = text
    while len(cut.encode()) + len("…".encode()) > limit:
        cut = cut[:-1]
    return cut.rstrip() + "…"


def _usage(*, sign_certs: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not sign_certs,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=sign_certs,
        crl_sign=sign_certs,
        encipher_only=False,
        decipher_only=False,
    )
