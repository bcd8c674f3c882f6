// Verifies SD-JWT VCs with the OpenWallet Foundation's @sd-jwt/sd-jwt-vc (not credreg's code), offline.
// stdin: {"presentations": ["<sd-jwt>", ...], "currentDate": <unix seconds>}; stdout: one
// {"verified": bool, "error": string|null, "claims": object|null} per presentation. The issuer's key is
// the did:key in the JWS header's kid, read with Digital Bazaar's @digitalbazaar/ed25519-multikey.
import {SDJwtVcInstance} from '@sd-jwt/sd-jwt-vc';
import {digest, generateSalt} from '@sd-jwt/crypto-nodejs';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';

const input = JSON.parse(await new Promise((resolve) => {
  let text = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => { text += chunk; });
  process.stdin.on('end', () => resolve(text));
}));

async function verifier(data, signature) {
  const header = JSON.parse(Buffer.from(data.split('.')[0], 'base64url').toString('utf8'));
  const [controller, fragment] = header.kid.split('#');
  if(header.alg !== 'EdDSA' || controller !== `did:key:${fragment}`) {
    return false;
  }
  const key = await Ed25519Multikey.from({
    type: 'Multikey', id: header.kid, controller, publicKeyMultibase: fragment
  });
  return key.verifier().verify({
    data: new TextEncoder().encode(data),
    signature: Buffer.from(signature, 'base64url')
  });
}

const sdjwt = new SDJwtVcInstance({verifier, hasher: digest, saltGenerator: generateSalt, hashAlg: 'sha-256'});
const results = [];
for(const presentation of input.presentations) {
  try {
    const {payload} = await sdjwt.verify(presentation, {currentDate: input.currentDate});
    const claims = await sdjwt.getClaims(presentation);
    results.push({verified: payload !== undefined, error: null, claims});
  } catch(error) {
    results.push({verified: false, error: String(error.message || error), claims: null});
  }
}
process.stdout.write(JSON.stringify(results));
