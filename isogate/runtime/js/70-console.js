// console: formats like workerd (which uses Node's util.format / util.inspect:
// breakLength 80, depth 2, compact 3, at most 100 array items), and captures
// each call as one entry of the bounded consoleBuffer (host hook).
//
// Entry format: the formatted text; levels other than log carry a prefix:
// "[info] ", "[debug] ", "[warn] ", "[error] ". One console call is one entry
// (it may contain newlines, e.g. a multi-line object or a stack trace).
// Bounds: at most 1,000 entries and 64 KiB (UTF-8) in total; the entry that
// would cross a bound is dropped (or cut, if it is the first), and one marker
// entry is added, after which nothing more is kept until reset().

const CONSOLE_MAX_LINES = 1000;
const CONSOLE_MAX_BYTES = 64 * 1024;
const CONSOLE_TRUNCATED = '[console output truncated: over 1000 lines or 64 KiB]';

let consoleLines = newList();
let consoleBytes = 0;
let consoleFull = false;

function consolePush(text) {
  if (consoleFull) return;
  const size = utf8Length(text);
  if (consoleLines.length >= CONSOLE_MAX_LINES || consoleBytes + size > CONSOLE_MAX_BYTES) {
    const room = CONSOLE_MAX_BYTES - consoleBytes;
    if (consoleLines.length < CONSOLE_MAX_LINES && room > 0 && consoleLines.length === 0) {
      // A single huge first entry: keep what fits (UTF-16 units <= bytes).
      consoleLines[consoleLines.length] = StringPrototypeToWellFormed(StringPrototypeSlice(text, 0, room >> 2));
    }
    consoleLines[consoleLines.length] = CONSOLE_TRUNCATED;
    consoleFull = true;
    return;
  }
  consoleLines[consoleLines.length] = text;
  consoleBytes += size;
}

// Host hook. take() returns a fresh null-prototype list of primitive strings.
const consoleBuffer = Object_freeze({
  __proto__: null,
  reset() {
    consoleLines = newList();
    consoleBytes = 0;
    consoleFull = false;
    consoleGroupIndent = '';
  },
  take() {
    const out = newList();
    for (let i = 0; i < consoleLines.length; i++) out[i] = consoleLines[i];
    return out;
  },
  // The lines since the last drain, and an empty buffer (group indentation kept):
  // the host attributes them to the invocation whose eval printed them.
  drain() {
    const out = consoleLines;
    consoleLines = newList();
    consoleBytes = 0;
    consoleFull = false;
    return out;
  },
});

// ---- inspect (a compact port of Node's util.inspect) ---------------------------------

const MapPrototypeDelete = uncurryThis(Map.prototype.delete);
const DatePrototypeToISOString = uncurryThis(Date.prototype.toISOString);
const BREAK_LENGTH = 80;
const MAX_ARRAY = 100;
const MAX_STRING = 10000;
const DEFAULT_DEPTH = 2;
const IDENT_RE = /^[a-zA-Z_][a-zA-Z_0-9]*$/;

// Custom views of our web classes (workerd shows their accessors).
const inspectViews = newList(); // [test(v) -> bool, name, keys[]]
function addInspectView(test, name, keys) {
  inspectViews[inspectViews.length] = [test, name, keys];
}
addInspectView((v) => requestInternals(v) !== undefined, 'Request',
  ['method', 'url', 'headers', 'redirect', 'fetcher', 'signal', 'cf', 'integrity', 'keepalive', 'body', 'bodyUsed']);
addInspectView((v) => bodyOf(v) !== undefined && requestInternals(v) === undefined, 'Response',
  ['status', 'statusText', 'headers', 'ok', 'redirected', 'url', 'webSocket', 'cf', 'type', 'body', 'bodyUsed']);
addInspectView((v) => urlRecordOf(v) !== undefined, 'URL',
  ['origin', 'href', 'protocol', 'username', 'password', 'host', 'hostname', 'port', 'pathname', 'search', 'hash', 'searchParams']);

function strEscape(s) {
  let quote = "'";
  if (StringPrototypeIncludes(s, "'")) {
    if (!StringPrototypeIncludes(s, '"')) quote = '"';
    else if (!StringPrototypeIncludes(s, '`') && !StringPrototypeIncludes(s, '${')) quote = '`';
  }
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = StringPrototypeCharCodeAt(s, i);
    const ch = s[i];
    if (ch === quote || c === 0x5c) out += '\\' + ch;
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x08) out += '\\b';
    else if (c === 0x0c) out += '\\f';
    else if (c === 0x0b) out += '\\x0B';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + StringPrototypePadStart(StringPrototypeToUpperCase(NumberPrototypeToString(c, 16)), 2, '0');
    else out += ch;
  }
  return quote + out + quote;
}

function formatPrimitive(v, nested) {
  switch (typeof v) {
    case 'string': {
      let s = v;
      let extra = '';
      if (nested && s.length > MAX_STRING) {
        extra = `... ${s.length - MAX_STRING} more character${s.length - MAX_STRING > 1 ? 's' : ''}`;
        s = StringPrototypeSlice(s, 0, MAX_STRING);
      }
      return nested ? strEscape(s) + extra : s;
    }
    case 'number':
      return Object_is(v, -0) ? '-0' : `${v}`;
    case 'bigint':
      return `${v}n`;
    case 'symbol':
      return SymbolPrototypeToString(v);
    default:
      return `${v}`; // undefined, null, boolean
  }
}

function getConstructorName(v) {
  let proto;
  try {
    proto = Object_getPrototypeOf(v);
  } catch {
    return null;
  }
  while (proto !== null) {
    const d = Object_getOwnPropertyDescriptor(proto, 'constructor');
    if (d !== undefined && typeof d.value === 'function' && typeof d.value.name === 'string' && d.value.name !== '') {
      return d.value.name;
    }
    proto = Object_getPrototypeOf(proto);
  }
  return null;
}

function functionBase(v) {
  let src = '';
  try {
    src = FunctionPrototypeToString(v);
  } catch {}
  const name = typeof v.name === 'string' ? v.name : '';
  if (StringPrototypeSlice(src, 0, 5) === 'class' && /^class[\s{]/.test(src)) {
    return `[class ${name || '(anonymous)'}]`;
  }
  let type = 'Function';
  const tag = ObjectPrototypeToString(v);
  if (tag === '[object AsyncFunction]') type = 'AsyncFunction';
  else if (tag === '[object GeneratorFunction]') type = 'GeneratorFunction';
  else if (tag === '[object AsyncGeneratorFunction]') type = 'AsyncGeneratorFunction';
  return name ? `[${type}: ${name}]` : `[${type} (anonymous)]`;
}

function formatKey(k) {
  if (typeof k === 'symbol') return `[${SymbolPrototypeToString(k)}]`;
  return RegExpPrototypeTest(IDENT_RE, k) ? k : strEscape(k);
}

function formatProperty(ctx, v, key, depth) {
  const d = Object_getOwnPropertyDescriptor(v, key);
  let str;
  if (d === undefined) str = formatValue(ctx, undefined, depth + 1);
  else if ('value' in d) {
    ctx.indentationLvl += 2;
    str = formatValue(ctx, d.value, depth + 1);
    ctx.indentationLvl -= 2;
  } else if (d.get !== undefined) str = d.set !== undefined ? '[Getter/Setter]' : '[Getter]';
  else str = d.set !== undefined ? '[Setter]' : 'undefined';
  return `${formatKey(key)}: ${str}`;
}

function ownEnumerableKeys(v) {
  const keys = Reflect_ownKeys(v);
  const out = newList();
  for (let i = 0; i < keys.length; i++) {
    if (ObjectPrototypePropertyIsEnumerable(v, keys[i])) out[out.length] = keys[i];
  }
  return out;
}

function isBelowBreakLength(ctx, output, start, base) {
  let total = output.length + start;
  if (total + output.length > BREAK_LENGTH) return false;
  for (let i = 0; i < output.length; i++) {
    total += output[i].length;
    if (total > BREAK_LENGTH) return false;
  }
  return base === '' || !StringPrototypeIncludes(base, '\n');
}

function joinList(list, sep) {
  let s = '';
  for (let i = 0; i < list.length; i++) s += (i ? sep : '') + list[i];
  return s;
}

// Node's groupArrayElements: numbers-like short entries in aligned columns.
function groupArrayElements(ctx, output, value, hasMore) {
  let totalLength = 0;
  let maxLength = 0;
  const outputLength = hasMore ? output.length - 1 : output.length;
  const dataLen = newList();
  for (let i = 0; i < outputLength; i++) {
    const len = output[i].length;
    dataLen[i] = len;
    totalLength += len + 2;
    if (maxLength < len) maxLength = len;
  }
  const actualMax = maxLength + 2;
  if (actualMax * 3 + ctx.indentationLvl < BREAK_LENGTH &&
    (totalLength / actualMax > 5 || maxLength <= 6)) {
    const averageBias = Math_sqrt(actualMax - totalLength / output.length);
    const biasedMax = Math_max(actualMax - 3 - averageBias, 1);
    const columns = Math_min(
      Math_round(Math_sqrt(2.5 * biasedMax * outputLength) / biasedMax),
      Math_floor((BREAK_LENGTH - ctx.indentationLvl) / actualMax),
      3 * 4,
      15,
    );
    if (columns <= 1) return output;
    const tmp = newList();
    const maxLineLength = newList();
    for (let i = 0; i < columns; i++) {
      let lineLength = 0;
      for (let j = i; j < output.length; j += columns) if (dataLen[j] > lineLength) lineLength = dataLen[j];
      maxLineLength[i] = lineLength + 2;
    }
    let padStart = true;
    if (value !== undefined) {
      for (let i = 0; i < outputLength; i++) {
        const t = typeof value[i];
        if (t !== 'number' && t !== 'bigint') {
          padStart = false;
          break;
        }
      }
    }
    for (let i = 0; i < outputLength; i += columns) {
      const max = Math_min(i + columns, outputLength);
      let str = '';
      let j = i;
      for (; j < max - 1; j++) {
        const padding = maxLineLength[j - i];
        str += padStart ? StringPrototypePadStart(`${output[j]}, `, padding, ' ')
          : StringPrototypePadEnd(`${output[j]}, `, padding, ' ');
      }
      if (padStart) str += StringPrototypePadStart(output[j], maxLineLength[j - i] - 2, ' ');
      else str += output[j];
      tmp[tmp.length] = str;
    }
    if (hasMore) tmp[tmp.length] = output[outputLength];
    return tmp;
  }
  return output;
}

function reduceToSingleString(ctx, output, base, braces, isArrayLike, depth, value, hasMore) {
  const entries = output.length;
  if (isArrayLike && entries > 6) output = groupArrayElements(ctx, output, value, hasMore);
  if (ctx.currentDepth - depth < 3 && entries === output.length) {
    const start = output.length + ctx.indentationLvl + braces[0].length + base.length + 10;
    if (isBelowBreakLength(ctx, output, start, base)) {
      const joined = joinList(output, ', ');
      if (!StringPrototypeIncludes(joined, '\n')) {
        return `${base ? `${base} ` : ''}${braces[0]} ${joined} ${braces[1]}`;
      }
    }
  }
  const indentation = '\n' + StringPrototypeRepeat(' ', ctx.indentationLvl);
  return `${base ? `${base} ` : ''}${braces[0]}${indentation}  ${joinList(output, `,${indentation}  `)}${indentation}${braces[1]}`;
}

function formatValue(ctx, v, depth) {
  if (v === null || (typeof v !== 'object' && typeof v !== 'function')) return formatPrimitive(v, true);
  for (let i = 0; i < ctx.seen.length; i++) {
    if (ctx.seen[i] === v) {
      let idx = MapPrototypeGet(ctx.circular, v);
      if (idx === undefined) {
        idx = MapPrototypeGetSize(ctx.circular) + 1;
        MapPrototypeSet(ctx.circular, v, idx);
      }
      return `[Circular *${idx}]`;
    }
  }
  let out = formatRaw(ctx, v, depth);
  const idx = MapPrototypeGet(ctx.circular, v);
  if (idx !== undefined) out = `<ref *${idx}> ${out}`;
  return out;
}

function formatRaw(ctx, v, depth) {
  const ctor = getConstructorName(v);
  let keys = ownEnumerableKeys(v);
  let base = '';
  let braces = ['{', '}'];
  let isArrayLike = false;
  const output = newList();
  let hasMore = false;
  let extraOnly = false; // for functions, errors etc. without keys: just base
  const prefixOf = (fallback, size) => {
    const name = ctor === null ? `[${fallback}: null prototype]` : ctor;
    const tag = v[Symbol_toStringTag];
    const tagStr = typeof tag === 'string' && tag !== '' && tag !== name ? ` [${tag}]` : '';
    return `${name}${size !== undefined ? `(${size})` : ''}${tagStr} `;
  };
  let formatter = null;

  if (Array_isArray(v)) {
    isArrayLike = true;
    const prefix = ctor !== 'Array' || v[Symbol_toStringTag] !== undefined ? prefixOf('Array', v.length) : '';
    braces = [`${prefix}[`, ']'];
    const filtered = newList();
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      if (typeof k === 'string' && `${k >>> 0}` === k && (k >>> 0) !== 0xffffffff) continue;
      filtered[filtered.length] = k;
    }
    keys = filtered;
    if (v.length === 0 && keys.length === 0) return `${braces[0]}]`;
    formatter = () => {
      hasMore = formatArray(ctx, v, depth, output);
    };
  } else if (TypedArrayPrototypeGetSymbolToStringTag(v) !== undefined) {
    isArrayLike = true;
    const len = TypedArrayPrototypeGetLength(v);
    braces = [`${prefixOf(TypedArrayPrototypeGetSymbolToStringTag(v), len)}[`, ']'];
    keys = newList();
    if (len === 0) return `${braces[0]}]`;
    formatter = () => {
      const n = Math_min(len, MAX_ARRAY);
      for (let i = 0; i < n; i++) output[output.length] = formatPrimitive(v[i], true);
      if (len > n) {
        output[output.length] = `... ${len - n} more item${len - n > 1 ? 's' : ''}`;
        hasMore = true;
      }
    };
  } else if (hasSlot(MapPrototypeGetSize, v)) {
    const size = MapPrototypeGetSize(v);
    braces = [`${prefixOf('Map', size)}{`, '}'];
    if (size === 0 && keys.length === 0) return `${braces[0]}}`;
    formatter = () => {
      const it = MapPrototypeEntries(v);
      ctx.indentationLvl += 2;
      for (let r = MapIteratorNext(it); !r.done; r = MapIteratorNext(it)) {
        output[output.length] = `${formatValue(ctx, r.value[0], depth + 1)} => ${formatValue(ctx, r.value[1], depth + 1)}`;
      }
      ctx.indentationLvl -= 2;
    };
  } else if (hasSlot(SetPrototypeGetSize, v)) {
    const size = SetPrototypeGetSize(v);
    braces = [`${prefixOf('Set', size)}{`, '}'];
    if (size === 0 && keys.length === 0) return `${braces[0]}}`;
    formatter = () => {
      const it = SetPrototypeValues(v);
      ctx.indentationLvl += 2;
      for (let r = SetIteratorNext(it); !r.done; r = SetIteratorNext(it)) {
        output[output.length] = formatValue(ctx, r.value, depth + 1);
      }
      ctx.indentationLvl -= 2;
    };
  } else if (headersList(v) !== undefined) {
    const entries = newList();
    const list = headersList(v);
    for (let i = 0; i < list.length; i++) entries[i] = list[i];
    braces = [`Headers(${entries.length}) {`, '}'];
    formatter = () => {
      for (let i = 0; i < entries.length; i++) {
        output[output.length] = `${strEscape(entries[i][0])} => ${strEscape(entries[i][1])}`;
      }
    };
  } else if (serializeSearchParams(v) !== undefined) {
    const entries = parseFormUrlencoded(serializeSearchParams(v));
    braces = [`URLSearchParams(${entries.length}) {`, '}'];
    if (entries.length === 0) return 'URLSearchParams(0) {}';
    formatter = () => {
      for (let i = 0; i < entries.length; i++) {
        output[output.length] = `${strEscape(entries[i][0])} => ${strEscape(entries[i][1])}`;
      }
    };
  } else {
    let view = null;
    for (let i = 0; i < inspectViews.length; i++) {
      if (inspectViews[i][0](v)) view = inspectViews[i];
    }
    if (view !== null) {
      braces = [`${view[1]} {`, '}'];
      keys = newList();
      formatter = () => {
        const names = view[2];
        ctx.indentationLvl += 2;
        for (let i = 0; i < names.length; i++) {
          let val;
          try {
            val = v[names[i]];
          } catch {
            val = undefined;
          }
          output[output.length] = `${names[i]}: ${formatValue(ctx, val, depth + 1)}`;
        }
        ctx.indentationLvl -= 2;
      };
    } else if (typeof v === 'function') {
      base = functionBase(v);
      if (keys.length === 0) return base;
    } else if (hasSlot(RegExpPrototypeGetSource, v) && v !== RegExp_.prototype) {
      base = `/${RegExpPrototypeGetSource(v)}/${RegExpPrototypeGetFlags(v)}`;
      if (keys.length === 0) return base;
    } else if (hasSlot(DatePrototypeGetTime, v)) {
      const t = DatePrototypeGetTime(v);
      base = t === t ? DatePrototypeToISOString(v) : 'Invalid Date';
      if (keys.length === 0) return base;
    } else if (ObjectPrototypeToString(v) === '[object Error]' || isDOMException(v)) {
      base = formatError(v);
      const filtered = newList();
      for (let i = 0; i < keys.length; i++) if (keys[i] !== 'stack' && keys[i] !== 'message') filtered[filtered.length] = keys[i];
      keys = filtered;
      if (keys.length === 0) return base;
    } else if (isArrayBuffer(v)) {
      const bytes = new Uint8Array_(v);
      const n = Math_min(TypedArrayPrototypeGetLength(bytes), 50);
      let hex = '';
      for (let i = 0; i < n; i++) hex += (i ? ' ' : '') + StringPrototypePadStart(NumberPrototypeToString(bytes[i], 16), 2, '0');
      if (TypedArrayPrototypeGetLength(bytes) > n) hex += ` ... ${TypedArrayPrototypeGetLength(bytes) - n} more bytes`;
      braces = [`${prefixOf('ArrayBuffer')}{`, '}'];
      formatter = () => {
        output[output.length] = `[Uint8Contents]: <${hex}>`;
        output[output.length] = `byteLength: ${ArrayBufferPrototypeGetByteLength(v)}`;
      };
    } else if (hasSlot(BooleanPrototypeValueOf, v)) {
      base = `[Boolean: ${BooleanPrototypeValueOf(v)}]`;
      if (keys.length === 0) return base;
    } else if (hasSlot(NumberPrototypeValueOf, v)) {
      base = `[Number: ${formatPrimitive(NumberPrototypeValueOf(v), false)}]`;
      if (keys.length === 0) return base;
    } else if (hasSlot(StringPrototypeValueOf, v)) {
      base = `[String: ${strEscape(StringPrototypeValueOf(v))}]`;
      const filtered = newList();
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i];
        if (typeof k === 'string' && `${k >>> 0}` === k) continue;
        filtered[filtered.length] = k;
      }
      keys = filtered;
      if (keys.length === 0) return base;
    } else if (hasSlot(WeakMapPrototypeHas, v) || hasSlot(WeakSetPrototypeHas, v)) {
      return `${prefixOf('Object')}{ <items unknown> }`;
    } else if (isPromise(v)) {
      return `${prefixOf('Promise')}{ <unknown> }`;
    } else {
      if (ctor === 'Object') {
        const tag = v[Symbol_toStringTag];
        if (typeof tag === 'string' && tag !== '') braces = [`Object [${tag}] {`, '}'];
      } else {
        braces = [`${prefixOf('Object')}{`, '}'];
      }
      if (keys.length === 0) return `${braces[0]}}`;
    }
  }

  if (depth > DEFAULT_DEPTH) {
    const name = ctor === null ? 'Object: null prototype' : ctor;
    return Array_isArray(v) ? '[Array]' : `[${name}]`;
  }
  ctx.seen[ctx.seen.length] = v;
  ctx.currentDepth = depth;
  if (formatter !== null) formatter();
  for (let i = 0; i < keys.length; i++) output[output.length] = formatProperty(ctx, v, keys[i], depth);
  ctx.seen.length--;
  if (extraOnly) return base;
  return reduceToSingleString(ctx, output, base, braces, isArrayLike, depth, v, hasMore);
}

function formatArray(ctx, v, depth, output) {
  const len = v.length;
  const n = Math_min(len, MAX_ARRAY);
  let holes = 0;
  const flushHoles = () => {
    if (holes) output[output.length] = `<${holes} empty item${holes > 1 ? 's' : ''}>`;
    holes = 0;
  };
  for (let i = 0; i < n; i++) {
    if (!ObjectPrototypeHasOwnProperty(v, i)) {
      holes++;
      continue;
    }
    flushHoles();
    const d = Object_getOwnPropertyDescriptor(v, i);
    if (d !== undefined && !('value' in d)) {
      output[output.length] = d.get !== undefined ? (d.set !== undefined ? '[Getter/Setter]' : '[Getter]') : '[Setter]';
      continue;
    }
    ctx.indentationLvl += 2;
    output[output.length] = formatValue(ctx, d === undefined ? undefined : d.value, depth + 1);
    ctx.indentationLvl -= 2;
  }
  flushHoles();
  if (len > n) output[output.length] = `... ${len - n} more item${len - n > 1 ? 's' : ''}`;
  return len > n;
}

function formatError(e) {
  let stack;
  try {
    stack = e.stack;
  } catch {}
  if (typeof stack === 'string' && stack !== '') return stack;
  let name = 'Error';
  let message = '';
  try {
    name = `${e.name}`;
    message = `${e.message}`;
  } catch {}
  return message ? `[${name}: ${message}]` : `[${name}]`;
}

function inspect(v) {
  const ctx = { __proto__: null, seen: newList(), circular: new Map_(), indentationLvl: 0, currentDepth: 0 };
  return formatValue(ctx, v, 0);
}

// Node's util.format.
function formatArgs(args) {
  const n = args.length;
  if (n === 0) return '';
  const first = args[0];
  let str = '';
  let a = 1;
  if (typeof first === 'string') {
    if (n === 1) return first;
    let last = 0;
    for (let i = 0; i < first.length - 1; i++) {
      if (first[i] !== '%') continue;
      const c = first[i + 1];
      if (a !== n || c === '%') {
        let tmp;
        switch (c) {
          case 's': {
            const v = args[a];
            if (typeof v === 'number') tmp = formatPrimitive(v, false);
            else if (typeof v === 'bigint') tmp = `${v}n`;
            else if (v !== null && typeof v === 'object') tmp = inspect(v);
            else tmp = typeof v === 'symbol' ? SymbolPrototypeToString(v) : `${v}`;
            break;
          }
          case 'j':
            try {
              tmp = `${JSON_stringify(args[a])}`;
            } catch {
              tmp = '[Circular]';
            }
            break;
          case 'd': {
            const v = args[a];
            if (typeof v === 'bigint') tmp = `${v}n`;
            else if (typeof v === 'symbol') tmp = 'NaN';
            else tmp = formatPrimitive(Number_(v), false);
            break;
          }
          case 'O':
          case 'o':
            tmp = inspect(args[a]);
            break;
          case 'i': {
            const v = args[a];
            if (typeof v === 'bigint') tmp = `${v}n`;
            else if (typeof v === 'symbol') tmp = 'NaN';
            else tmp = formatPrimitive(Number_.parseInt(v), false);
            break;
          }
          case 'f': {
            const v = args[a];
            tmp = typeof v === 'symbol' ? 'NaN' : formatPrimitive(Number_.parseFloat(v), false);
            break;
          }
          case 'c':
            tmp = '';
            break;
          case '%':
            str += StringPrototypeSlice(first, last, i);
            last = i + 1;
            continue;
          default:
            continue;
        }
        if (last !== i) str += StringPrototypeSlice(first, last, i);
        str += tmp;
        last = i + 2;
        i++;
        a++;
      }
    }
    if (last !== 0) {
      if (last < first.length) str += StringPrototypeSlice(first, last);
    } else {
      str = first;
    }
  } else {
    a = 0;
  }
  for (; a < n; a++) {
    const v = args[a];
    str += (a > 0 || str !== '' ? ' ' : '') + (typeof v === 'string' ? v : inspect(v));
  }
  return str;
}

// ---- the console object ---------------------------------------------------------------

let consoleGroupIndent = '';
const consoleCounts = new Map_();
const consoleTimers = new Map_();

function emit(prefix, args) {
  let text;
  try {
    text = formatArgs(args);
  } catch (e) {
    text = '<console: could not format arguments>';
  }
  if (consoleGroupIndent !== '') {
    text = consoleGroupIndent + StringPrototypeReplace(text, /\n/g, '\n' + consoleGroupIndent);
  }
  consolePush(prefix + StringPrototypeToWellFormed(text));
}

function reportUncaught(e) {
  emit('[error] ', ['Uncaught', e]);
}

const consoleObject = {
  log(...args) {
    emit('', args);
  },
  info(...args) {
    emit('[info] ', args);
  },
  debug(...args) {
    emit('[debug] ', args);
  },
  warn(...args) {
    emit('[warn] ', args);
  },
  error(...args) {
    emit('[error] ', args);
  },
  trace(...args) {
    const err = { name: 'Trace', message: formatArgs(args) };
    if (typeof Error_captureStackTrace === 'function') Error_captureStackTrace(err, consoleObject.trace);
    emit('[debug] ', [typeof err.stack === 'string' ? err.stack : 'Trace: ' + err.message]);
  },
  assert(condition, ...args) {
    if (condition) return;
    if (args.length && typeof args[0] === 'string') {
      args[0] = 'Assertion failed: ' + args[0];
      emit('[error] ', args);
    } else {
      emit('[error] ', ['Assertion failed', ...args]);
    }
  },
  dir(obj) {
    emit('', [inspect(obj)]);
  },
  table(...args) {
    emit('', args);
  },
  group(...args) {
    if (args.length) emit('', args);
    consoleGroupIndent += '  ';
  },
  groupCollapsed(...args) {
    consoleObject.group(...args);
  },
  groupEnd() {
    consoleGroupIndent = StringPrototypeSlice(consoleGroupIndent, 0, -2);
  },
  count(label = 'default') {
    label = `${label}`;
    const n = (MapPrototypeGet(consoleCounts, label) || 0) + 1;
    MapPrototypeSet(consoleCounts, label, n);
    emit('[info] ', [`${label}: ${n}`]);
  },
  countReset(label = 'default') {
    MapPrototypeSet(consoleCounts, `${label}`, 0);
  },
  time(label = 'default') {
    MapPrototypeSet(consoleTimers, `${label}`, Date_now());
  },
  timeLog(label = 'default', ...args) {
    const start = MapPrototypeGet(consoleTimers, `${label}`);
    if (start === undefined) return;
    emit('[info] ', [`${label}: ${Date_now() - start}ms`, ...args]);
  },
  timeEnd(label = 'default') {
    const start = MapPrototypeGet(consoleTimers, `${label}`);
    if (start === undefined) return;
    MapPrototypeDelete(consoleTimers, `${label}`);
    emit('[info] ', [`${label}: ${Date_now() - start}ms`]);
  },
};
Object_defineProperty(consoleObject, Symbol_toStringTag, { value: 'console', configurable: true });
defineGlobal('console', consoleObject);
