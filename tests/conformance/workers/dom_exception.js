// DOMException: names, legacy codes, inheritance.
export default {
  fetch() {
    const out = [];
    for (const name of [undefined, 'AbortError', 'InvalidCharacterError', 'DataCloneError', 'QuotaExceededError', 'NotFoundError', 'TimeoutError', 'SyntaxError', 'Custom']) {
      const e = name === undefined ? new DOMException('msg') : new DOMException('msg', name);
      out.push([e.name, e.message, e.code, e instanceof Error, Object.prototype.toString.call(e), String(e)]);
    }
    return Response.json({ out, consts: [DOMException.ABORT_ERR, DOMException.INVALID_CHARACTER_ERR, DOMException.DATA_CLONE_ERR] });
  },
};
