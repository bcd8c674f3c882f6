// Languages, words and times. The words about certificates (verdicts, steps, levels, reason codes, field
// names, events) come from the service's GET /v1/labels, the one table the CLI and the API use too; this
// module holds only the page's own words (buttons, headings, hints) and reads both in the chosen language.

export const LANGUAGES = ["zh", "en"];
const STORE_KEY = "credreg.lang";

// The page's own words: [Chinese, English]. {name} is replaced from the values passed to t().
const UI = {
  title: ["职业技能证书核验", "Skill certificate verification"],
  skip: ["跳到内容", "Skip to content"],
  views: ["视图", "Views"],
  tabVerify: ["核验证书", "Verify"],
  tabAudit: ["审计时间线", "Audit timeline"],
  language: ["语言", "Language"],
  dropTitle: ["把证书文件拖到这里，或", "Drop certificate files here, or"],
  choose: ["选择文件", "choose files"],
  dropHint: [
    "可一次选择多个 .json 证书文件。文件由本登记簿的服务核验，不会被保存。",
    "Several .json certificate files at once are fine. They are checked by this registry's service; nothing is stored.",
  ],
  lookupLabel: ["按哈希查询", "Look up a hash"],
  lookupWhat: ["（批次的默克尔根，或证书的目标哈希）", "(a batch's merkle root or a certificate's target hash)"],
  lookupButton: ["查询", "Look up"],
  lookupHelp: ["64 位十六进制，可带或不带 0x", "64 hex digits, with or without 0x"],
  reload: ["刷新", "Reload"],
  event: ["事件", "Event"],
  allEvents: ["全部", "All"],
  agencyId: ["机构编号", "Agency id"],
  timelineCaption: ["链上事件，按顺序", "Ledger events, in order"],
  colTime: ["时间（{zone}）", "Time ({zone})"],
  colBlock: ["区块", "Block"],
  colEvent: ["事件", "Event"],
  colAgency: ["机构", "Agency"],
  colHashes: ["根 / 目标", "Root / target"],
  colActor: ["操作者", "Actor"],
  colDetails: ["详情", "Details"],
  more: ["加载更多", "Load more"],
  footer: [
    "账本上只记录哈希。核验结论以所示时间为准。",
    "Only hashes are on the ledger. A verdict holds as of the moment shown on it.",
  ],
  footerApi: ["接口文档", "API documentation"],
  footerVersion: ["credreg 版本 {version}", "credreg version {version}"],
  zoneNote: ["时间均为 {zone}（{offset}）", "Times are in {zone} ({offset})"],
  registry: ["登记簿", "Registry"],
  chain: ["链", "chain"],
  registryUnavailable: ["登记簿信息不可用：{message}", "Registry details unavailable: {message}"],
  // verifying files
  verifying: ["正在核验 {count} 个文件…", "Verifying {count} file(s)…"],
  verified: ["核验完成。", "Verification finished."],
  verifiedMany: [
    "核验完成：{valid} 个有效，{other} 个无效或无法核验。",
    "Finished: {valid} valid, {other} not valid or not checked.",
  ],
  failedCheck: ["未通过的检查", "Failed check"],
  stepsHeading: ["核验步骤（按顺序）", "Checks, in order"],
  agencyHeading: ["评价机构", "Evaluation agency"],
  scopeHeading: ["职业与等级", "Occupation and level"],
  certificateHeading: ["证书", "Certificate"],
  ledgerHeading: ["链上标识", "Ledger identifiers"],
  unconfirmed: ["以下为文件中所写，未经证实", "As written in the file; not confirmed"],
  name: ["名称", "Name"],
  registrationCode: ["登记代码", "Registration code"],
  standing: ["状态", "Standing"],
  accreditedFrom: ["资质起始", "Accredited from"],
  accreditedUntil: ["资质截止", "Accredited until"],
  openEnded: ["无期限", "open-ended"],
  revocationCutoff: ["撤销截止时间", "Revocation cut-off"],
  occupation: ["职业", "Occupation"],
  occupationCode: ["职业编码", "Occupation code"],
  level: ["等级", "Level"],
  certificateKind: ["证书类别", "Kind"],
  certificateNumber: ["证书编号", "Certificate number"],
  holder: ["持证人", "Holder"],
  notShown: ["未公开", "not shown"],
  hiddenFields: ["持证人隐藏的字段", "Fields the holder hid"],
  none: ["无", "none"],
  issued: ["签发时间", "Issued"],
  validUntil: ["有效期至", "Valid until"],
  noExpiry: ["长期有效", "no expiry"],
  throughDay: ["{day}（含当日）", "{day} (through that day)"],
  until: ["至 {time}", "until {time}"],
  targetHash: ["目标哈希", "Target hash"],
  merkleRoot: ["默克尔根", "Merkle root"],
  signer: ["签名密钥", "Signer"],
  chainId: ["链编号", "Chain id"],
  checkedAt: ["核验时间", "Checked at"],
  checkedBlock: ["核验时的区块", "Ledger block checked"],
  notJson: ["不是 JSON 文件", "Not a JSON file"],
  tooLarge: ["文件过大", "File too large"],
  requestFailed: ["请求失败", "Request failed"],
  unreadable: ["文件无法读取", "the file could not be read"],
  sizeLimit: ["{size} 字节；最多 {max} 字节", "{size} bytes; at most {max}"],
  noReport: ["服务没有返回结论", "no report returned"],
  yes: ["是", "yes"],
  no: ["否", "no"],
  // looking up a hash
  pasteFirst: ["请先粘贴哈希", "Paste a hash first"],
  lookingUp: ["正在查询…", "Looking up…"],
  lookedUp: ["查询完成。", "Lookup finished."],
  lookupFailed: ["查询失败", "Lookup failed"],
  hashLookup: ["哈希查询", "Hash lookup"],
  qrLookup: ["扫码核验", "Scanned verification"],
  kind: ["哈希类型", "Kind"],
  kindRoot: ["批次默克尔根", "batch merkle root"],
  kindLeaf: ["单份证书的目标哈希", "a certificate's target hash"],
  batchRoot: ["所属批次根", "Batch root"],
  agency: ["评价机构", "Agency"],
  scope: ["职业与等级", "Occupation and level"],
  statusSince: ["状态变更时间", "Status since"],
  reason: ["原因", "Reason"],
  decidedBy: ["决定结论的哈希", "Decided by"],
  isBatch: ["这是一个批次的根", "This is a batch root"],
  batchNotCertificate: [
    "批次不是一份证书：批次中的证书各有各的状态，请逐份核验。",
    "A batch is not a certificate: each certificate in it has its own status; verify them one by one.",
  ],
  batchKnown: ["本服务知道这个批次中的 {count} 份证书。", "This service knows {count} certificate(s) in this batch."],
  batchUnknown: [
    "本服务不知道这个批次包含哪些证书（批次未经本服务提交，发证机构也未上传其批次摘要：credreg batch upload）。",
    "This service does not know which certificates this batch holds (it was not relayed through this service, and its agency has not uploaded the batch: credreg batch upload).",
  ],
  batchChanges: ["这个批次中已撤销或暂停的：", "Revoked or suspended in this batch:"],
  batchNoChanges: [
    "账本的事件中没有这个批次内任何证书被撤销或暂停的记录。",
    "The ledger's events show no certificate in this batch revoked or suspended.",
  ],
  batchWide: ["整个批次", "The batch as a whole"],
  revokedWord: ["已撤销", "revoked"],
  suspendedWord: ["已暂停", "suspended"],
  knownLeaf: ["证书", "certificate"],
  partOfBatch: ["证书或批次的一部分", "a certificate or part of the batch"],
  rootItself: ["批次根本身", "the root itself"],
  batchCount: ["批次中的证书", "Certificates in the batch"],
  unknownCount: ["未知", "not known here"],
  cannotSearch: ["无法仅凭哈希查询", "This hash cannot be looked up on its own"],
  cannotSearchWhy: [
    "账本记录的是批次，而不是单份证书。只有当证书所属的批次为本服务所知时，才能按证书的哈希查询。这并不表示证书未签发。",
    "The ledger records batches, not single certificates. A certificate's hash can be looked up only when its batch is known to this service. This does not mean the certificate was not issued.",
  ],
  askForFile: ["请把证书文件拖到上方的框中核验。", "Drop the certificate file in the box above to verify it."],
  ledgerOnlyNote: [
    "账本只能证明这份证书已登记及其状态；请核对纸面证书上的持证人信息与证书编号。",
    "The ledger proves only that this certificate is recorded and its status; check the holder and the certificate number on the paper.",
  ],
  proofUnknownNote: [
    "本结论来自这份证书自身的状态变更记录。",
    "This answer comes from the certificate's own status change on the ledger.",
  ],
  badLink: ["这个核验链接无法读取", "This verification link cannot be read"],
  // print
  printCertificate: ["打印证书", "Print certificate"],
  printSlip: ["打印核验单", "Print verification slip"],
  slipTitle: ["证书核验单", "Certificate verification slip"],
  scanToVerify: ["扫码在本登记簿核验这份证书", "Scan to verify this certificate with this registry"],
  verdict: ["结论", "Verdict"],
  registryAddress: ["登记簿地址", "Registry address"],
  certificateTitle: ["职业技能证书", "Skill certificate"],
  // api
  unreachable: ["无法连接服务，请检查网络连接", "The service could not be reached; check the connection"],
  unreadableAnswer: ["服务的回答无法读取", "The service's answer could not be read"],
  retryIn: ["请在 {seconds} 秒后重试", "Try again in {seconds} s"],
  http400: ["请求无效", "The request was refused"],
  http404: ["未找到", "Not found"],
  http413: ["上传内容过大", "The upload is too large for the service"],
  http422: ["服务无法接受这一输入", "The service could not accept this input"],
  http429: ["请求过多，请稍后重试", "Too many requests; try again shortly"],
  http503: ["账本暂不可用", "The ledger is unavailable"],
  httpOther: ["服务出错（HTTP {status}）", "The service answered with HTTP {status}"],
  problem_validation: ["请求无效", "The request is not valid"],
  "problem_unknown-hash": ["无法仅凭哈希查询", "Not a batch root, and in no batch this service knows"],
  "problem_chain-unavailable": ["账本暂不可用", "The ledger cannot be reached"],
  "problem_batch-too-large": ["一次提交的文件过多", "Too many items in one request"],
  "problem_body-too-large": ["上传内容过大", "The request body is too large"],
  // audit
  readingEvents: ["正在读取事件…", "Reading events…"],
  eventsShown: ["共 {total} 个事件", "{total} event(s) shown"],
  eventsMore: ["；下方可加载更多", "; more below"],
  noEvents: ["尚无事件", "No events yet."],
  readEventsFailed: ["读取事件失败", "Reading events failed"],
  auditReport: ["审计报告", "Audit report"],
  noFindings: ["未发现问题", "No findings"],
  findings: ["发现 {total} 个问题", "{total} finding(s)"],
  replayedThrough: ["已重放至区块 {block}（{time}）。", "Replayed through block {block} ({time})."],
  digestHeading: ["用于比对的摘要", "Digest to compare"],
  digest: ["摘要", "Digest"],
  scheme: ["算法", "Scheme"],
  events: ["事件数", "Events"],
  checks: ["核对", "Checks"],
  provenance: ["合约代码来源", "Bytecode provenance"],
  viewsCheck: ["与合约视图比对", "State vs contract views"],
  complete: ["完整", "complete"],
  partial: ["部分", "partial"],
  mismatched: ["不一致", "mismatched"],
  byRule: ["问题分类", "Findings by rule"],
  totals: ["统计", "Totals"],
  agencies: ["机构", "Agencies"],
  scopes: ["职业范围", "Scopes"],
  signers: ["签名密钥", "Signers"],
  roots: ["批次根", "Roots"],
  rootVerdicts: ["批次结论", "Root verdicts"],
  targetsByStatus: ["状态变更对象", "Targets by status"],
  perAgency: ["按机构", "Per agency"],
  state: ["状态", "State"],
  statusChanges: ["状态变更", "Status changes"],
  governor: ["管理部门", "governor"],
  signerWord: ["签名密钥", "signer"],
  root: ["根", "root"],
  target: ["目标", "target"],
  rule: ["规则", "rule"],
  block: ["区块", "block"],
};

const state = { lang: "zh", labels: null, zone: "Asia/Shanghai", listeners: [] };

function pick(languages) {
  for (const tag of languages || []) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (LANGUAGES.includes(base)) return base;
  }
  return "zh";
}

// The stored choice first, then ?lang=, then the browser's languages; Chinese when none of them is known.
export function initialLanguage() {
  const asked = new URLSearchParams(location.search).get("lang");
  if (asked && LANGUAGES.includes(asked)) return asked;
  let stored = null;
  try {
    stored = localStorage.getItem(STORE_KEY);
  } catch (err) {
    stored = null;
  }
  if (stored && LANGUAGES.includes(stored)) return stored;
  return pick(navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language]);
}

export function lang() {
  return state.lang;
}

export function setLanguage(next, remember) {
  if (!LANGUAGES.includes(next)) return;
  state.lang = next;
  document.documentElement.lang = next === "zh" ? "zh-CN" : "en";
  if (remember) {
    try {
      localStorage.setItem(STORE_KEY, next);
    } catch (err) {
      // private windows may refuse storage; the choice then lasts for this visit
    }
  }
  for (const listener of state.listeners) listener(next);
}

export function onLanguage(listener) {
  state.listeners.push(listener);
}

export function t(key, values) {
  const pair = UI[key];
  let text = pair ? pair[state.lang === "zh" ? 0 : 1] : key;
  for (const [name, value] of Object.entries(values || {})) text = text.split(`{${name}}`).join(String(value));
  return text;
}

// --- labels from the service ---------------------------------------------------------------------------

export function setLabels(labels) {
  state.labels = labels;
  if (labels && labels.time_zone) state.zone = labels.time_zone;
}

export function labels() {
  return state.labels;
}

function word(pair, fallback) {
  if (!pair) return fallback;
  return pair[state.lang] || pair.en || fallback;
}

// A word from one of the label tables, or `fallback` (the key itself) when the table has no entry.
export function label(table, key, fallback) {
  const tables = state.labels || {};
  return word((tables[table] || {})[key], fallback === undefined ? String(key) : fallback);
}

export function codeName(code) {
  const entry = ((state.labels || {}).codes || {})[code];
  return entry ? word(entry.name, code) : code;
}

export function codeSummary(code, fallback) {
  const entry = ((state.labels || {}).codes || {})[code];
  return entry ? word(entry.summary, fallback) : fallback;
}

export function levelName(level, kind) {
  const levels = (state.labels || {}).levels || {};
  const table = levels[kind] || levels.skill_level || {};
  const pair = table[String(level)];
  return pair ? word(pair, "") : state.lang === "zh" ? `${level} 级` : `Level ${level}`;
}

export function reasonName(code) {
  const n = Number(code);
  const pair = ((state.labels || {}).reasons || {})[String(n)];
  if (pair) return `${word(pair, "")} (${n})`;
  return state.lang === "zh" ? `原因代码 ${n}` : `reason code ${n}`;
}

export function fieldName(path) {
  return label("fields", path, path);
}

export function kindName(kind) {
  return phrase("kind", String(kind).replace(/_/g, " "));
}

// --- times ---------------------------------------------------------------------------------------------

function parts(seconds) {
  const format = new Intl.DateTimeFormat("en-CA", {
    timeZone: state.zone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  });
  const out = {};
  for (const part of format.formatToParts(new Date(seconds * 1000))) out[part.type] = part.value;
  return out;
}

// "UTC+8" for the zone at `seconds` (zones with summer time change offset).
export function offset(seconds) {
  const format = new Intl.DateTimeFormat("en-US", { timeZone: state.zone, timeZoneName: "shortOffset" });
  const name = format.formatToParts(new Date((seconds || Date.now() / 1000) * 1000)).find((p) => p.type === "timeZoneName");
  const value = name ? name.value.replace("GMT", "UTC") : "UTC";
  return value === "UTC" ? "UTC+0" : value;
}

export function zoneName() {
  return state.zone;
}

export function when(seconds) {
  if (seconds === null || seconds === undefined || seconds === "") return null;
  const n = Number(seconds);
  if (!Number.isFinite(n) || n <= 0) return "—";
  const p = parts(n);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second} ${offset(n)}`;
}

// Ends of validity are exclusive; one at midnight means "through the day before", as printed on paper.
export function through(seconds) {
  const n = Number(seconds);
  if (!Number.isFinite(n) || n <= 0) return null;
  const p = parts(n);
  if (p.hour !== "00" || p.minute !== "00" || p.second !== "00") return t("until", { time: when(n) });
  const q = parts(n - 1);
  return t("throughDay", { day: `${q.year}-${q.month}-${q.day}` });
}

// --- step reasons --------------------------------------------------------------------------------------

const UTC_TIME = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d) UTC$/;

function utcToSeconds(text) {
  const m = UTC_TIME.exec(text);
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) / 1000 : null;
}

function phrase(group, key) {
  const table = (((state.labels || {}).phrases || {})[group]) || {};
  return word(table[key], key);
}

function fill(template, groups) {
  return template.replace(/\{(kind|level|state|which|reason|through)?(\d+)\}/g, (_, kind, index) => {
    const value = groups[Number(index)] ?? "";
    if (kind === "kind") return phrase("kind", value);
    if (kind === "which") return phrase("which", value);
    if (kind === "state") return label("agency_states", value, value);
    if (kind === "reason") return reasonName(value);
    if (kind === "level") return levelName(value);
    if (value === "never") return state.lang === "zh" ? "从未" : "never";
    const seconds = utcToSeconds(value);
    if (kind === "through" && seconds !== null) return through(seconds);
    return seconds === null ? value : when(seconds);
  });
}

const UTC_TIMES = /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/g;

function wordedReason(reason) {
  const patterns = (state.labels || {}).step_reasons || [];
  for (const entry of patterns) {
    const match = new RegExp(entry.pattern).exec(reason);
    if (match) return fill(entry[state.lang] || entry.en, match);
  }
  return null;
}

// A step's reason as the service wrote it (English, times in UTC), in the chosen language and zone. A reason
// listing several differences ("…; …") is worded part by part; a reason with no words yet keeps its English,
// but its times are still shown in the view's zone.
export function stepReason(reason) {
  const whole = wordedReason(reason);
  if (whole !== null) return { text: whole, translated: true };
  const parts = reason.split("; ").map(wordedReason);
  if (parts.length > 1 && parts.every((p) => p !== null)) {
    return { text: parts.join(state.lang === "zh" ? "；" : "; "), translated: true };
  }
  return { text: reason.replace(UTC_TIMES, (text) => when(utcToSeconds(text))), translated: false };
}
