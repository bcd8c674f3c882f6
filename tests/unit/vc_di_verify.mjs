// Verifies VC 2.0 Data Integrity proofs with Digital Bazaar's libraries (not credreg's code), offline.
// stdin: {"credentials": [...], "contexts": {"<url>": <context document>}}; stdout: one
// {"verified": bool, "error": string|null, "setIndices": [int]|null} per credential, setIndices being the
// entries a BitstringStatusListCredential's list has set, decoded by @digitalbazaar/vc-bitstring-status-list. The document loader serves the W3C VC 2.0
// context from @digitalbazaar/credentials-context, the contexts given on stdin (credreg's shipped ones) and
// did:key documents from @digitalbazaar/did-method-key; any other URL is refused.
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {driver as didKeyDriver} from '@digitalbazaar/did-method-key';
import {decodeList} from '@digitalbazaar/vc-bitstring-status-list';
import {contexts as credentialsContexts} from '@digitalbazaar/credentials-context';

const input = JSON.parse(await new Promise((resolve) => {
  let text = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => { text += chunk; });
  process.stdin.on('end', () => resolve(text));
}));

const didKey = didKeyDriver();
didKey.use({multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519Multikey.from});
const V2 = 'https://www.w3.org/ns/credentials/v2';
const contexts = new Map([[V2, credentialsContexts.get(V2)]]);
for(const [url, document] of Object.entries(input.contexts)) {
  contexts.set(url, document);
}

async function documentLoader(url) {
  if(contexts.has(url)) {
    return {contextUrl: null, documentUrl: url, document: contexts.get(url)};
  }
  if(url.startsWith('did:key:')) {
    const document = await didKey.get({url});
    return {contextUrl: null, documentUrl: url, document};
  }
  throw new Error(`refusing to load ${url}: not a shipped context`);
}

async function setIndices(credential) {
  if(!credential.type.includes('BitstringStatusListCredential')) {
    return null;
  }
  const list = await decodeList({encodedList: credential.credentialSubject.encodedList});
  const set = [];
  for(let index = 0; index < list.length; ++index) {
    if(list.getStatus(index)) {
      set.push(index);
    }
  }
  return set;
}

const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022});
const results = [];
for(const credential of input.credentials) {
  try {
    const result = await vc.verifyCredential({
      credential, suite, documentLoader, checkStatus: async () => ({verified: true})
    });
    const error = result.verified ? null :
      String((result.error && (result.error.errors || [result.error])
        .map((e) => e.message).join('; ')) || 'not verified');
    results.push({verified: result.verified, error, setIndices: await setIndices(credential)});
  } catch(error) {
    results.push({verified: false, error: String(error.message || error), setIndices: null});
  }
}
process.stdout.write(JSON.stringify(results));
