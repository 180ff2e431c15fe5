"""crypto.subtle end to end over real HTTP (issue 20): a webhook verified with HMAC and
JWTs (ES256, RS256) verified against a JWK, through a real gateway and real isolates."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from .conftest import Tenant, unique

pytestmark = pytest.mark.timeout(300)

WEBHOOK = """
export default {
  async fetch(request, env) {
    const body = await request.arrayBuffer();
    const given = request.headers.get('x-signature') || '';
    const sig = new Uint8Array(given.match(/../g)?.map((h) => parseInt(h, 16)) || []);
    const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(env.SECRET),
      {name: 'HMAC', hash: 'SHA-256'}, false, ['verify']);
    if (!await crypto.subtle.verify('HMAC', key, sig, body)) return new Response('bad signature', {status: 401});
    const event = JSON.parse(new TextDecoder().decode(body));
    return Response.json({accepted: event.id});
  }
};
"""

JWT_VERIFY = """
const b64url = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
const ALGS = {
  ES256: [{name: 'ECDSA', namedCurve: 'P-256'}, {name: 'ECDSA', hash: 'SHA-256'}],
  RS256: [{name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256'}, {name: 'RSASSA-PKCS1-v1_5'}],
};
export default {
  async fetch(request, env) {
    const token = (request.headers.get('authorization') || '').replace(/^Bearer /, '');
    const [h, p, s] = token.split('.');
    const header = JSON.parse(new TextDecoder().decode(b64url(h)));
    const jwk = JSON.parse(env.JWKS).keys.find((k) => k.kid === header.kid);
    if (!jwk || !ALGS[header.alg]) return new Response('unknown key', {status: 401});
    const [importAlg, verifyAlg] = ALGS[header.alg];
    const key = await crypto.subtle.importKey('jwk', jwk, importAlg, false, ['verify']);
    const ok = await crypto.subtle.verify(verifyAlg, key, b64url(s), new TextEncoder().encode(h + '.' + p));
    if (!ok) return new Response('bad token', {status: 401});
    return Response.json({sub: JSON.parse(new TextDecoder().decode(b64url(p))).sub, alg: header.alg});
  }
};
"""


def test_webhook_hmac_verification(tenant: Tenant) -> None:
    name = unique("hook")
    r = tenant.deploy(name, WEBHOOK, env={"SECRET": "whsec_test"}, public=True)
    assert r.status_code == 201, r.text
    body = json.dumps({"id": "evt_42", "type": "charge.succeeded"}).encode()
    sig = hmac.new(b"whsec_test", body, hashlib.sha256).hexdigest()
    r = tenant.http.post(f"/fn/{name}", content=body, headers={"x-signature": sig})
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": "evt_42"}
    r = tenant.http.post(f"/fn/{name}", content=body + b" ", headers={"x-signature": sig})
    assert r.status_code == 401 and r.text == "bad signature"


def test_jwt_es256_and_rs256_verified_against_a_jwk(tenant: Tenant) -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    rsa_key = rsa.generate_private_key(65537, 2048)
    ec_jwk = json.loads(ECAlgorithm.to_jwk(ec_key.public_key()))
    rsa_jwk = json.loads(RSAAlgorithm.to_jwk(rsa_key.public_key()))
    ec_jwk["kid"], rsa_jwk["kid"] = "ec1", "rsa1"
    name = unique("jwt")
    jwks = json.dumps({"keys": [ec_jwk, rsa_jwk]})
    r = tenant.deploy(name, JWT_VERIFY, env={"JWKS": jwks}, public=True)
    assert r.status_code == 201, r.text
    for alg, key, kid in (("ES256", ec_key, "ec1"), ("RS256", rsa_key, "rsa1")):
        token = jwt.encode({"sub": f"user-{alg}"}, key, algorithm=alg, headers={"kid": kid})
        r = tenant.http.get(f"/fn/{name}", headers={"authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
        assert r.json() == {"sub": f"user-{alg}", "alg": alg}
        # a token signed by another key, or with a changed payload, is refused
        head, _, sig = token.split(".")
        forged_payload = base64.urlsafe_b64encode(b'{"sub":"admin"}').rstrip(b"=").decode()
        r = tenant.http.get(
            f"/fn/{name}", headers={"authorization": f"Bearer {head}.{forged_payload}.{sig}"}
        )
        assert r.status_code == 401 and r.text == "bad token"
    other = ec.generate_private_key(ec.SECP256R1())
    token = jwt.encode({"sub": "x"}, other, algorithm="ES256", headers={"kid": "ec1"})
    r = tenant.http.get(f"/fn/{name}", headers={"authorization": f"Bearer {token}"})
    assert r.status_code == 401
