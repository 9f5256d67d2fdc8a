"""A real OpenLDAP server (Debian's slapd) for the directory tests, started by the test run.

``SlapdServer`` writes its own slapd.conf, database directory and a self-signed certificate under
a temporary directory, loads a small tree (two units, four people, groups for units and roles)
and listens on a free port on 127.0.0.1 (plain LDAP with StartTLS). ``reset()`` puts the tree back
as it was between tests; ``ldapmodify`` changes it as a directory administrator would.
"""

import datetime
import ipaddress
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

SUFFIX = "dc=qh,dc=gov,dc=cn"
ADMIN_DN = f"cn=admin,{SUFFIX}"
ADMIN_PASSWORD = "admin-secret"
SERVICE_DN = f"cn=kepu-portal,ou=services,{SUFFIX}"
SERVICE_PASSWORD = "service-secret"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"
PASSWORD = "dir-Passw0rd-1"  # every person's password

SCHEMAS = ("core", "cosine", "inetorgperson")


def person_dn(uid, ou):
    return f"uid={uid},ou={ou},{PEOPLE}"


def group_dn(cn):
    return f"cn={cn},{GROUPS}"


# Two units (省教育厅 jyt and 省科协 kx), four people, groups for units and for roles.
TREE = f"""dn: {SUFFIX}
objectClass: dcObject
objectClass: organization
o: Qinghai
dc: qh

dn: ou=services,{SUFFIX}
objectClass: organizationalUnit
ou: services

dn: {SERVICE_DN}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: kepu-portal
userPassword: {SERVICE_PASSWORD}

dn: {PEOPLE}
objectClass: organizationalUnit
ou: people

dn: ou=jyt,{PEOPLE}
objectClass: organizationalUnit
ou: jyt

dn: ou=kx,{PEOPLE}
objectClass: organizationalUnit
ou: kx

dn: {person_dn("zhangsan", "jyt")}
objectClass: inetOrgPerson
uid: zhangsan
cn: 张三
sn: 张
givenName: 三
mail: zhangsan@jyt.qh.gov.cn
departmentNumber: jyt
userPassword: {PASSWORD}

dn: {person_dn("lisi", "jyt")}
objectClass: inetOrgPerson
uid: lisi
cn: 李四
sn: 李
givenName: 四
mail: lisi@jyt.qh.gov.cn
departmentNumber: jyt
userPassword: {PASSWORD}

dn: {person_dn("wangwu", "kx")}
objectClass: inetOrgPerson
uid: wangwu
cn:: {__import__("base64").b64encode("王𠮷祥".encode()).decode()}
sn: 王
givenName:: {__import__("base64").b64encode("𠮷祥".encode()).decode()}
mail: wangwu@kx.qh.gov.cn
departmentNumber: kx
userPassword: {PASSWORD}

dn: {person_dn("zhaoliu", "kx")}
objectClass: inetOrgPerson
uid: zhaoliu
cn: 赵六
sn: 赵
givenName: 六
mail: zhaoliu@kx.qh.gov.cn
userPassword: {PASSWORD}

dn: {GROUPS}
objectClass: organizationalUnit
ou: groups

dn: {group_dn("jyt")}
objectClass: groupOfNames
cn: jyt
member: {person_dn("zhangsan", "jyt")}
member: {person_dn("lisi", "jyt")}

dn: {group_dn("kx")}
objectClass: groupOfNames
cn: kx
member: {person_dn("wangwu", "kx")}

dn: {group_dn("reporters")}
objectClass: groupOfNames
cn: reporters
member: {person_dn("zhangsan", "jyt")}
member: {person_dn("wangwu", "kx")}

dn: {group_dn("approvers")}
objectClass: groupOfNames
cn: approvers
member: {person_dn("lisi", "jyt")}

dn: {group_dn("staff")}
objectClass: groupOfNames
cn: staff
member: {person_dn("zhaoliu", "kx")}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def slapd_path():
    for candidate in ("/usr/sbin/slapd", shutil.which("slapd")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def self_signed_certificate(directory: Path):
    """A certificate for localhost / 127.0.0.1 signed by itself: what a CA file must name."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


class SlapdServer:
    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="kepu-slapd-"))
        self.port = free_port()
        self.url = f"ldap://127.0.0.1:{self.port}"
        self.process = None
        self.cert_file, self.key_file = self_signed_certificate(self.root)

    def _config(self):
        includes = "\n".join(f"include /etc/ldap/schema/{name}.schema" for name in SCHEMAS)
        return f"""{includes}
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
pidfile {self.root}/slapd.pid
TLSCertificateFile {self.cert_file}
TLSCertificateKeyFile {self.key_file}
database mdb
maxsize 10485760
suffix "{SUFFIX}"
rootdn "{ADMIN_DN}"
rootpw {ADMIN_PASSWORD}
directory {self.root}/db
overlay ppolicy
access to attrs=userPassword by self =xw by anonymous auth by * none
access to * by dn.exact="{SERVICE_DN}" read by self read by * none
"""

    def start(self):
        (self.root / "db").mkdir()
        (self.root / "slapd.conf").write_text(self._config())
        (self.root / "tree.ldif").write_text(TREE)
        subprocess.run(
            ["slapadd", "-f", self.root / "slapd.conf", "-l", self.root / "tree.ldif"],
            check=True,
            capture_output=True,
        )
        self.process = subprocess.Popen(
            [slapd_path(), "-d", "0", "-f", self.root / "slapd.conf", "-h", f"{self.url}/"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"slapd exited: {self.process.stderr.read().decode(errors='replace')}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("slapd did not start within 15 s")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    def _tool(self, tool, *args, stdin=""):
        result = subprocess.run(
            [tool, "-x", "-H", self.url, "-D", ADMIN_DN, "-w", ADMIN_PASSWORD, *args],
            input=stdin.encode(),
            capture_output=True,
            timeout=30,
        )
        if result.returncode not in (0, 32):  # 32: no such object (deleting what is gone)
            raise RuntimeError(f"{tool} failed: {result.stderr.decode(errors='replace')}")
        return result

    def ldapmodify(self, ldif: str):
        self._tool("ldapmodify", stdin=ldif)

    def reset(self):
        """Back to TREE: delete everything below the suffix, add it again."""
        for branch in (f"ou=services,{SUFFIX}", PEOPLE, GROUPS):
            self._tool("ldapdelete", "-r", branch)
        entries = TREE.split("\n\n")[1:]  # the suffix itself stays
        self._tool("ldapadd", stdin="\n\n".join(entries))
