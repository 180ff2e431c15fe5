// KV bindings (issue 23): env.NAME objects of the Workers KV API. Every method is a
// host operation "kv" whose JSON the prelude builds by hand; the gateway process performs
// it (the worker has no database) and answers {value, metadata} / list pages. Values
// travel as binary strings (one char per byte).

const KV_TYPES = ['text', 'json', 'arrayBuffer', 'stream'];

function kvNumber(v, what) {
  if (v === undefined || v === null) return 'null';
  const n = +v;
  if (n !== n) throw new TypeError_(what + ' must be a number');
  return JSON_stringify(n);
}

function kvType(typeOrOptions) {
  let type = 'text';
  if (typeof typeOrOptions === 'string') type = typeOrOptions;
  else if (typeof typeOrOptions === 'object' && typeOrOptions !== null && typeOrOptions.type !== undefined) {
    type = String_(typeOrOptions.type);
  }
  // cacheTtl is accepted and has no effect: every read goes to the store of record
  for (let i = 0; i < KV_TYPES.length; i++) if (KV_TYPES[i] === type) return type;
  throw new TypeError_('Unknown response type. Possible types are "text", "arrayBuffer", "json", and "stream".');
}

function kvDecode(binary, type) {
  if (binary === null || binary === undefined) return null;
  const bytes = binaryStringToBytes(String_(binary));
  if (type === 'arrayBuffer') return TypedArrayPrototypeGetBuffer(bytes);
  if (type === 'stream') return new Response(bytes).body;
  const text = utf8DecodeBytes(bytes, TypedArrayPrototypeGetLength(bytes));
  return type === 'json' ? JSON_parse(text) : text;
}

function kvValue(value) {
  if (typeof value === 'string') {
    const b = encodeUTF8(value, true);
    return bytesToBinaryString(b, TypedArrayPrototypeGetLength(b));
  }
  const bytes = typeof value === 'object' && value !== null ? copyBufferSource(value) : undefined;
  if (bytes === undefined) {
    throw new TypeError_('KV put() accepts only strings, ArrayBuffers and ArrayBufferViews as values.');
  }
  return bytesToBinaryString(bytes, TypedArrayPrototypeGetLength(bytes));
}

function kvCall(binding, method, rest) {
  return startHostOp('kv', '{"b":' + q(binding) + ',"m":' + q(method) + rest + '}').promise;
}

class KvNamespace {
  #binding;
  constructor(binding) {
    this.#binding = binding;
  }
  get(key, typeOrOptions = undefined) {
    try {
      const type = kvType(typeOrOptions);
      return call(Promise_then, kvCall(this.#binding, 'get', ',"k":' + q(key)), (v) => kvDecode(v.value, type));
    } catch (e) {
      return Promise_reject(e);
    }
  }
  getWithMetadata(key, typeOrOptions = undefined) {
    try {
      const type = kvType(typeOrOptions);
      return call(Promise_then, kvCall(this.#binding, 'get', ',"k":' + q(key)), (v) => ({
        value: kvDecode(v.value, type),
        metadata: v.metadata === undefined ? null : v.metadata,
      }));
    } catch (e) {
      return Promise_reject(e);
    }
  }
  put(key, value, options = undefined) {
    try {
      let rest = ',"k":' + q(key) + ',"v":' + q(kvValue(value));
      if (typeof options === 'object' && options !== null) {
        rest += ',"exp":' + kvNumber(options.expiration, 'expiration');
        rest += ',"ttl":' + kvNumber(options.expirationTtl, 'expirationTtl');
        if (options.metadata !== undefined && options.metadata !== null) {
          // the tenant's own value, serialised as Workers does (JSON): its toJSON runs
          // in its own call, and only the resulting string reaches the host
          rest += ',"meta":' + q(JSON_stringify(options.metadata));
        }
      }
      return call(Promise_then, kvCall(this.#binding, 'put', rest), () => undefined);
    } catch (e) {
      return Promise_reject(e);
    }
  }
  delete(key) {
    try {
      return call(Promise_then, kvCall(this.#binding, 'delete', ',"k":' + q(key)), () => undefined);
    } catch (e) {
      return Promise_reject(e);
    }
  }
  list(options = undefined) {
    try {
      let rest = '';
      if (typeof options === 'object' && options !== null) {
        if (options.prefix !== undefined && options.prefix !== null) rest += ',"prefix":' + q(options.prefix);
        if (options.limit !== undefined && options.limit !== null) rest += ',"limit":' + kvNumber(options.limit, 'limit');
        if (options.cursor !== undefined && options.cursor !== null) rest += ',"cursor":' + q(options.cursor);
      }
      return call(Promise_then, kvCall(this.#binding, 'list', rest), (v) => {
        const out = { keys: v.keys, list_complete: v.list_complete === true, cacheStatus: null };
        if (v.cursor !== undefined) out.cursor = v.cursor;
        return out;
      });
    } catch (e) {
      return Promise_reject(e);
    }
  }
}
