// Event, CustomEvent, EventTarget, AbortController, AbortSignal and Request.signal:
// the synchronous parts (AbortSignal.timeout only for its argument checks).

// [name, message] of what f throws, or ['ok', value].
function t(f) {
  try {
    return ['ok', show(f())];
  } catch (e) {
    return ['throw', e && e.name, e && e.message, e instanceof Error, Object.prototype.toString.call(e)];
  }
}
function show(v) {
  if (v === undefined) return 'undefined';
  if (typeof v === 'function') return 'function';
  if (typeof v === 'object' && v !== null) {
    return Object.prototype.toString.call(v) + ':' + (v.constructor && v.constructor.name);
  }
  return v;
}
// An abort reason, described.
function reason(v) {
  if (v && typeof v === 'object') {
    return [v.name, v.message, v.code, v instanceof DOMException, v instanceof Error,
      typeof v.stack === 'string' ? v.stack.split('\n')[0] : typeof v.stack];
  }
  return show(v);
}
function keys(o) {
  return Object.getOwnPropertyNames(o);
}

const routes = {
  '/typeof'() {
    const names = ['Event', 'EventTarget', 'CustomEvent', 'AbortController', 'AbortSignal'];
    const out = {};
    for (const n of names) {
      out[n] = [typeof globalThis[n], globalThis[n].length, globalThis[n].name];
    }
    out.protoKeys = {
      Event: keys(Event.prototype),
      CustomEvent: keys(CustomEvent.prototype),
      EventTarget: keys(EventTarget.prototype),
      AbortSignal: keys(AbortSignal.prototype),
      AbortController: keys(AbortController.prototype),
    };
    out.staticKeys = { Event: keys(Event), AbortSignal: keys(AbortSignal) };
    const descr = (o, k) => {
      const d = Object.getOwnPropertyDescriptor(o, k);
      return [typeof d.get, typeof d.set, typeof d.value, d.enumerable, d.configurable, d.writable];
    };
    out.descriptors = [descr(Event.prototype, 'type'), descr(Event.prototype, 'cancelBubble'),
      descr(Event.prototype, 'preventDefault'), descr(Event, 'NONE'), descr(Event.prototype, 'AT_TARGET'),
      descr(AbortSignal.prototype, 'onabort'), descr(AbortSignal, 'any'), descr(AbortController.prototype, 'signal'),
      descr(CustomEvent.prototype, 'detail'), typeof Object.getOwnPropertyDescriptor(Request.prototype, 'signal').get];
    out.lengths = [EventTarget.prototype.addEventListener.length, AbortSignal.any.length,
      AbortSignal.timeout.length, AbortSignal.abort.length, AbortController.prototype.abort.length];
    out.chains = [new AbortController().signal instanceof EventTarget, new CustomEvent('x') instanceof Event,
      Object.getPrototypeOf(AbortSignal.prototype) === EventTarget.prototype,
      Object.getPrototypeOf(CustomEvent.prototype) === Event.prototype];
    out.tags = [String(new Event('x')), String(new EventTarget()), String(new AbortController()),
      String(new AbortController().signal), String(new CustomEvent('x'))];
    out.forIn = (() => { const k = []; for (const p in new Event('x')) k.push(p); return k; })();
    out.timeoutType = typeof AbortSignal.timeout;
    return out;
  },

  '/event'() {
    const o = {};
    const e = new Event('foo', { bubbles: 1, cancelable: 'yes', composed: 0 });
    o.props = [e.type, e.bubbles, e.cancelable, e.composed, e.defaultPrevented, e.returnValue, e.eventPhase,
      e.timeStamp, e.isTrusted, e.target, e.currentTarget, e.srcElement, e.cancelBubble, e.composedPath().length];
    o.consts = [Event.NONE, Event.CAPTURING_PHASE, Event.AT_TARGET, Event.BUBBLING_PHASE, e.NONE, e.AT_TARGET];
    e.preventDefault();
    o.afterPreventDefault = [e.defaultPrevented, e.returnValue];
    const e2 = new Event('bar');
    e2.preventDefault();
    o.nonCancelable = [e2.defaultPrevented, e2.returnValue];
    e2.cancelBubble = 'yes';
    o.cancelBubble = [e2.cancelBubble];
    e2.cancelBubble = 0;
    o.cancelBubble.push(e2.cancelBubble);
    e2.stopPropagation();
    o.cancelBubble.push(e2.cancelBubble);
    o.types = [new Event(123).type, new Event(null).type, new Event(undefined).type,
      new Event({ toString() { return 'obj'; } }).type];
    o.initNullAndFunction = [new Event('x', null).bubbles, new Event('x', () => 1).cancelable];
    const order = [];
    new Event({ toString() { order.push('type'); return 't'; } }, {
      get bubbles() { order.push('bubbles'); }, get cancelable() { order.push('cancelable'); },
      get composed() { order.push('composed'); },
    });
    new CustomEvent('x', {
      get bubbles() { order.push('c-bubbles'); }, get cancelable() { order.push('c-cancelable'); },
      get composed() { order.push('c-composed'); }, get detail() { order.push('c-detail'); return 1; },
    });
    o.readOrder = order;
    const ce = new CustomEvent('c', { detail: { a: 1 }, cancelable: true });
    o.custom = [ce.type, ce.detail, ce.cancelable, ce instanceof Event, typeof new CustomEvent('d').detail,
      new CustomEvent('d', { detail: null }).detail, typeof new CustomEvent('d', { detail: undefined }).detail];
    o.ownKeys = Reflect.ownKeys(e).length;
    o.errors = {
      noArg: t(() => new Event()),
      symbol: t(() => new Event(Symbol('s'))),
      initNumber: t(() => new Event('x', 5)),
      initString: t(() => new Event('x', 'abc')),
      customNoArg: t(() => new CustomEvent()),
      customInit: t(() => new CustomEvent('x', true)),
      getterOnPrototype: t(() => Event.prototype.type),
      getterOnOther: t(() => Object.getOwnPropertyDescriptor(Event.prototype, 'type').get.call({})),
      methodOnOther: t(() => Event.prototype.preventDefault.call({})),
      detailOnEvent: t(() => Object.getOwnPropertyDescriptor(CustomEvent.prototype, 'detail').get.call(new Event('x'))),
    };
    class MyEvent extends Event {
      constructor() {
        super('mine', { cancelable: true });
        this.extra = 1;
      }
    }
    const mine = new MyEvent();
    o.subclass = [mine.type, mine.cancelable, mine.extra, mine instanceof MyEvent];
    return o;
  },

  '/target'() {
    const o = {};
    const log = [];
    const et = new EventTarget();
    const f1 = (e) => {
      log.push(['f1', e.type, e.eventPhase, e.target === et, e.currentTarget === et, e.composedPath().length,
        e.isTrusted]);
    };
    const obj = { handleEvent(e) { log.push(['obj', this === obj]); } };
    et.addEventListener('x', f1);
    et.addEventListener('x', f1); // a duplicate: ignored
    et.addEventListener('x', obj);
    et.addEventListener('x', function () {
      log.push(['this', this === globalThis]);
      return true; // cancels the event
    });
    et.addEventListener('x', () => { log.push('once'); }, { once: true });
    const ev = new Event('x', { cancelable: true });
    o.dispatch1 = et.dispatchEvent(ev);
    o.afterDispatch = [ev.eventPhase, ev.target === et, ev.currentTarget === et, ev.defaultPrevented,
      ev.composedPath().length];
    o.dispatch2 = et.dispatchEvent(ev);
    o.dispatchNonCancelable = et.dispatchEvent(new Event('x'));
    o.log1 = log.splice(0);

    // handleEvent is read when the listener is added
    const obj2 = { handleEvent() { log.push('h1'); } };
    et.addEventListener('y', obj2);
    obj2.handleEvent = () => log.push('h2');
    et.dispatchEvent(new Event('y'));
    o.handleEventRead = log.splice(0);

    // stopImmediatePropagation sticks to the event
    const et2 = new EventTarget();
    et2.addEventListener('z', (e) => { log.push('a'); e.stopImmediatePropagation(); });
    et2.addEventListener('z', () => { log.push('b'); });
    const ez = new Event('z');
    o.stopImmediate = [et2.dispatchEvent(ez), et2.dispatchEvent(ez), log.splice(0)];
    const pre = new Event('z');
    pre.stopImmediatePropagation();
    o.stoppedBefore = [et2.dispatchEvent(pre), log.splice(0)];

    // stopPropagation does not stop other listeners
    const et3 = new EventTarget();
    et3.addEventListener('z', (e) => { log.push('a'); e.stopPropagation(); });
    et3.addEventListener('z', (e) => { log.push('b', e.cancelBubble); });
    et3.dispatchEvent(new Event('z'));
    o.stopPropagation = log.splice(0);

    // return values and preventDefault
    const et4 = new EventTarget();
    et4.addEventListener('p', (e) => { e.preventDefault(); });
    o.preventDefaultNonCancelable = et4.dispatchEvent(new Event('p'));
    const et5 = new EventTarget();
    et5.addEventListener('p', () => true);
    const p1 = new Event('p');
    const p2 = new Event('p', { cancelable: true });
    o.returnTrue = [et5.dispatchEvent(p1), p1.defaultPrevented, et5.dispatchEvent(p2), p2.defaultPrevented];
    const et6 = new EventTarget();
    et6.addEventListener('n', () => 'str');
    o.returnString = et6.dispatchEvent(new Event('n', { cancelable: true }));
    const p3 = new Event('q', { cancelable: true });
    p3.preventDefault();
    o.preventedBefore = [p3.defaultPrevented, new EventTarget().dispatchEvent(p3), p3.defaultPrevented];
    const et7 = new EventTarget();
    const p4 = new Event('x', { cancelable: true });
    et7.addEventListener('x', (e) => { e.preventDefault(); log.push(e.defaultPrevented); });
    et7.addEventListener('x', (e) => { log.push(e.returnValue); });
    o.preventInDispatch = [et7.dispatchEvent(p4), log.splice(0), p4.defaultPrevented];

    // adding and removing during a dispatch; order after re-adding
    const et8 = new EventTarget();
    const late = () => log.push('late');
    const rem = () => log.push('rem');
    et8.addEventListener('r', () => {
      log.push('first');
      et8.addEventListener('r', late);
      et8.removeEventListener('r', rem);
    });
    et8.addEventListener('r', rem);
    et8.dispatchEvent(new Event('r'));
    et8.dispatchEvent(new Event('r'));
    o.changeDuringDispatch = log.splice(0);
    const et9 = new EventTarget();
    const A = () => log.push('A');
    const B = () => log.push('B');
    et9.addEventListener('s', A);
    et9.addEventListener('s', B);
    et9.addEventListener('s', A);
    et9.dispatchEvent(new Event('s'));
    et9.removeEventListener('s', A);
    et9.addEventListener('s', A);
    et9.dispatchEvent(new Event('s'));
    o.reAddOrder = log.splice(0);
    const et10 = new EventTarget();
    const g = () => log.push('g');
    et10.addEventListener('v', g, { once: true });
    et10.addEventListener('v', g);
    et10.dispatchEvent(new Event('v'));
    et10.dispatchEvent(new Event('v'));
    o.onceThenPlain = log.splice(0);

    // a throwing listener stops the dispatch and the exception propagates
    const et11 = new EventTarget();
    et11.addEventListener('t', () => { log.push('t1'); throw new RangeError('boom'); });
    et11.addEventListener('t', () => { log.push('t2'); });
    o.throwing = [t(() => et11.dispatchEvent(new Event('t'))), log.splice(0)];
    const et12 = new EventTarget();
    const e12 = new Event('u');
    et12.addEventListener('u', () => { o.reentrant = t(() => et12.dispatchEvent(e12)); });
    et12.dispatchEvent(e12);

    // on<type> properties are honoured, first
    const et13 = new EventTarget();
    et13.addEventListener('foo', () => log.push('l1'));
    et13.onfoo = () => log.push('onfoo');
    et13.onbar = { handleEvent() { log.push('objhandler'); } };
    et13.dispatchEvent(new Event('foo'));
    et13.dispatchEvent(new Event('bar'));
    et13.onret = () => true;
    const e13 = new Event('ret', { cancelable: true });
    o.onProperty = [log.splice(0), et13.dispatchEvent(e13), e13.defaultPrevented];
    class T extends EventTarget {
      get onping() {
        log.push('getter');
        return () => log.push('ping');
      }
    }
    const tt = new T();
    tt.addEventListener('ping', (e) => log.push(['listener', e.target === tt]));
    tt.dispatchEvent(new Event('ping'));
    o.subclass = log.splice(0);

    // option reading order and conversions
    const optOrder = [];
    new EventTarget().addEventListener('w', () => {}, {
      get capture() { optOrder.push('capture'); return false; },
      get once() { optOrder.push('once'); return false; },
      get passive() { optOrder.push('passive'); return false; },
      get signal() { optOrder.push('signal'); return undefined; },
    });
    o.optionOrder = optOrder;
    const et14 = new EventTarget();
    et14.addEventListener(1, () => log.push('one'));
    et14.dispatchEvent(new Event('1'));
    o.typeConversion = log.splice(0);
    o.options = {
      zero: t(() => new EventTarget().addEventListener('x', () => {}, 0)),
      empty: t(() => new EventTarget().addEventListener('x', () => {}, '')),
      null: t(() => new EventTarget().addEventListener('x', () => {}, null)),
      fn: t(() => new EventTarget().addEventListener('x', () => {}, () => {})),
      passive: t(() => new EventTarget().addEventListener('x', () => {}, { passive: true })),
      nullListenerCapture: t(() => new EventTarget().addEventListener('x', null, true)),
      nullListenerCaptureObj: t(() => new EventTarget().addEventListener('x', null, { capture: true })),
      nullListenerBadSignal: t(() => new EventTarget().addEventListener('x', null, { signal: 5 })),
      removeUndefined: t(() => new EventTarget().removeEventListener('x', undefined)),
      removeNullCapture: t(() => new EventTarget().removeEventListener('x', null, true)),
    };
    o.errors = {
      addNoArgs: t(() => new EventTarget().addEventListener()),
      addOneArg: t(() => new EventTarget().addEventListener('x')),
      addNumber: t(() => new EventTarget().addEventListener('x', 5)),
      addString: t(() => new EventTarget().addEventListener('x', 'str')),
      addNoHandleEvent: t(() => new EventTarget().addEventListener('x', {})),
      addHandleEventNotFn: t(() => new EventTarget().addEventListener('x', { handleEvent: 5 })),
      addCapture: t(() => new EventTarget().addEventListener('x', () => {}, true)),
      addCaptureNumber: t(() => new EventTarget().addEventListener('x', () => {}, 5)),
      addCaptureObj: t(() => new EventTarget().addEventListener('x', () => {}, { capture: true })),
      addBadSignal: t(() => new EventTarget().addEventListener('x', () => {}, { signal: {} })),
      addNullSignal: t(() => new EventTarget().addEventListener('x', () => {}, { signal: null })),
      addSymbolType: t(() => new EventTarget().addEventListener(Symbol('s'), () => {})),
      addHandlerBeforeOptions: t(() => new EventTarget().addEventListener('x', 5, { get capture() { throw new Error('read'); } })),
      removeNoArgs: t(() => new EventTarget().removeEventListener()),
      removeOneArg: t(() => new EventTarget().removeEventListener('x')),
      removeNumber: t(() => new EventTarget().removeEventListener('x', 5)),
      removeCapture: t(() => new EventTarget().removeEventListener('x', () => {}, true)),
      removeCaptureObj: t(() => new EventTarget().removeEventListener('x', () => {}, { capture: true })),
      dispatchNoArg: t(() => new EventTarget().dispatchEvent()),
      dispatchPlainObject: t(() => new EventTarget().dispatchEvent({ type: 'x' })),
      dispatchOnOther: t(() => EventTarget.prototype.dispatchEvent.call({}, new Event('x'))),
      addOnOther: t(() => EventTarget.prototype.addEventListener.call({})),
    };
    return o;
  },

  '/abort'() {
    const o = {};
    const log = [];
    const ac = new AbortController();
    const s = ac.signal;
    o.initial = [ac.signal === s, s.aborted, show(s.reason), s.onabort, t(() => s.throwIfAborted())];
    s.onabort = (e) => log.push(['onabort', e.type, e.isTrusted, e.target === s, e.cancelable, e.bubbles,
      s.aborted, reason(s.reason)]);
    s.addEventListener('abort', (e) => log.push(['l1', e.eventPhase]));
    s.addEventListener('abort', { handleEvent: () => log.push(['l2']) });
    s.addEventListener('abort', () => log.push(['once']), { once: true });
    s.addEventListener('other', () => log.push(['other']));
    o.abortReturns = show(ac.abort());
    o.log = log.splice(0);
    let thrown;
    try {
      s.throwIfAborted();
    } catch (e) {
      thrown = e;
    }
    o.after = [s.aborted, reason(s.reason), thrown === s.reason, show(s.onabort)];
    ac.abort('again');
    o.secondAbort = [reason(s.reason), log.length];
    // every listener is dropped once the abort event has fired
    s.dispatchEvent(new Event('other'));
    s.dispatchEvent(new Event('abort'));
    s.addEventListener('abort', () => log.push('added after'));
    s.dispatchEvent(new Event('abort'));
    o.afterAbortDispatch = log.splice(0);

    const reasons = {};
    for (const [k, v] of [['string', 'why'], ['zero', 0], ['null', null], ['undefined', undefined],
      ['error', new TypeError('te')], ['object', { a: 1 }]]) {
      const c = new AbortController();
      c.abort(v);
      reasons[k] = [c.signal.aborted, reason(c.signal.reason), t(() => c.signal.throwIfAborted())];
    }
    o.reasons = reasons;
    o.staticAbort = [reason(AbortSignal.abort().reason), AbortSignal.abort().aborted, reason(AbortSignal.abort('x').reason),
      reason(AbortSignal.abort(undefined).reason), reason(AbortSignal.abort(null).reason),
      t(() => { const f = AbortSignal.abort; return f().aborted; })];

    // onabort: what it accepts, where its listener sits
    const s2 = new AbortController().signal;
    const got = [];
    for (const v of [1, 'str', {}, null, undefined, () => 1]) {
      s2.onabort = v;
      got.push(show(s2.onabort));
    }
    o.onabortValues = got;
    const L = (n) => () => log.push(n);
    {
      const c = new AbortController();
      c.signal.addEventListener('abort', L('l1'));
      c.signal.onabort = L('on');
      c.signal.addEventListener('abort', L('l2'));
      c.signal.dispatchEvent(new Event('abort'));
      o.onabortManual = log.splice(0);
      c.abort();
      o.onabortOrder = log.splice(0);
    }
    {
      const c = new AbortController();
      c.signal.onabort = L('f');
      c.signal.addEventListener('abort', L('l'));
      c.signal.onabort = L('g');
      c.abort();
      o.onabortReplaced = log.splice(0);
    }
    {
      const c = new AbortController();
      c.signal.onabort = L('f');
      c.signal.onabort = null;
      c.signal.addEventListener('abort', L('l'));
      c.signal.onabort = L('g');
      c.abort();
      o.onabortReset = log.splice(0);
    }
    {
      const c = new AbortController();
      const f = L('f');
      c.signal.onabort = f;
      c.signal.addEventListener('abort', f);
      c.signal.removeEventListener('abort', f);
      c.abort();
      o.onabortNotAListener = log.splice(0);
    }
    {
      const c = new AbortController();
      c.signal.onabort = { handleEvent: L('object') };
      c.abort();
      o.onabortObject = log.splice(0);
    }
    {
      const c = new AbortController();
      c.signal.addEventListener('abort', L('l'));
      Object.defineProperty(c.signal, 'onabort', { value: L('own'), writable: true, configurable: true });
      c.abort();
      o.onabortOwnProperty = log.splice(0);
    }
    {
      const c = new AbortController();
      c.signal.onabort = (e) => { log.push('on'); e.stopImmediatePropagation(); };
      c.signal.addEventListener('abort', L('l'));
      c.abort();
      o.onabortStops = log.splice(0);
    }

    // throwing out of abort()
    {
      const c = new AbortController();
      c.signal.onabort = () => { log.push('o'); throw new Error('onabort boom'); };
      c.signal.addEventListener('abort', L('l'));
      o.onabortThrows = [t(() => c.abort()), c.signal.aborted, log.splice(0)];
      c.signal.dispatchEvent(new Event('abort'));
      o.onabortThrowsAfter = log.splice(0);
    }
    {
      const c = new AbortController();
      c.signal.addEventListener('abort', () => { log.push('a'); throw new Error('listener boom'); });
      c.signal.addEventListener('abort', L('b'));
      o.listenerThrows = [t(() => c.abort()), c.signal.aborted, log.splice(0)];
    }
    {
      const c = new AbortController();
      c.signal.addEventListener('abort', () => {
        log.push('l');
        c.abort('inner');
        log.push(reason(c.signal.reason));
      });
      c.abort('outer');
      o.reentrantAbort = log.splice(0);
    }

    // the signal option of addEventListener
    {
      const c = new AbortController();
      const et = new EventTarget();
      et.addEventListener('k', L('k1'), { signal: c.signal });
      et.dispatchEvent(new Event('k'));
      c.abort();
      et.dispatchEvent(new Event('k'));
      et.addEventListener('k', L('k2'), { signal: c.signal });
      et.dispatchEvent(new Event('k'));
      o.signalOption = log.splice(0);
    }
    {
      const c = new AbortController();
      const et = new EventTarget();
      const f = L('f');
      et.addEventListener('x', f, { signal: c.signal });
      et.removeEventListener('x', f);
      et.addEventListener('x', f);
      c.abort();
      et.dispatchEvent(new Event('x'));
      o.signalOptionAfterRemove = log.splice(0);
    }
    {
      // removed before the signal's own abort listeners run
      const c = new AbortController();
      const et = new EventTarget();
      c.signal.addEventListener('abort', () => { log.push('first'); et.dispatchEvent(new Event('x')); });
      et.addEventListener('x', L('x'), { signal: c.signal });
      c.abort();
      o.signalOptionBeforeEvent = log.splice(0);
    }
    {
      const c = new AbortController();
      c.signal.addEventListener('abort', L('self'), { signal: c.signal });
      c.abort();
      o.signalOptionOnItself = log.splice(0);
    }
    {
      const c = new AbortController();
      const et = new EventTarget();
      et.addEventListener('x', () => { log.push('a'); c.abort(); });
      et.addEventListener('x', L('b'), { signal: c.signal });
      et.dispatchEvent(new Event('x'));
      o.signalAbortedMidDispatch = log.splice(0);
    }
    {
      const et = new EventTarget();
      et.addEventListener('x', L('never'), { signal: AbortSignal.abort() });
      et.dispatchEvent(new Event('x'));
      o.signalAlreadyAborted = log.splice(0);
    }
    {
      // internal state, not the (replaceable) getters
      const c = new AbortController();
      const d = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted');
      Object.defineProperty(AbortSignal.prototype, 'aborted', { get() { return true; }, configurable: true });
      const mapGet = Map.prototype.get;
      const mapSet = Map.prototype.set;
      Map.prototype.get = () => undefined;
      Map.prototype.set = function () { return this; };
      const et = new EventTarget();
      et.addEventListener('x', L('x'), { signal: c.signal });
      et.dispatchEvent(new Event('x'));
      const any = AbortSignal.any([c.signal]);
      c.abort('r');
      et.dispatchEvent(new Event('x'));
      Map.prototype.get = mapGet;
      Map.prototype.set = mapSet;
      Object.defineProperty(AbortSignal.prototype, 'aborted', d);
      o.tampered = [log.splice(0), any.aborted, any.reason];
    }

    o.errors = {
      newSignal: t(() => new AbortSignal()),
      abortedOnOther: t(() => Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted').get.call(new EventTarget())),
      abortedOnPrototype: t(() => AbortSignal.prototype.aborted),
      throwIfAbortedOnOther: t(() => AbortSignal.prototype.throwIfAborted.call(new EventTarget())),
      abortOnOther: t(() => AbortController.prototype.abort.call({})),
      signalOnOther: t(() => Object.getOwnPropertyDescriptor(AbortController.prototype, 'signal').get.call({})),
      subclassSignal: t(() => { class S extends AbortSignal {} return new S(); }),
      staticAbortSubclass: t(() => { class S extends AbortSignal {} return S.abort() instanceof S; }),
      timeoutNoArg: t(() => AbortSignal.timeout()),
      timeoutSymbol: t(() => AbortSignal.timeout(Symbol('s'))),
      timeoutBigInt: t(() => AbortSignal.timeout(1n)),
    };
    o.subclassController = t(() => {
      class C extends AbortController {
        constructor() {
          super();
          this.x = 1;
        }
      }
      const c = new C();
      c.abort();
      return [c.signal.aborted, c.x].join();
    });
    return o;
  },

  '/any'() {
    const o = {};
    const log = [];
    const L = (n) => () => log.push(n);
    o.empty = t(() => { const a = AbortSignal.any([]); return [a.aborted, show(a.reason)].join(); });
    const pre = AbortSignal.abort('pre');
    const anyPre = AbortSignal.any([new AbortController().signal, pre, AbortSignal.abort('second')]);
    o.alreadyAborted = [anyPre.aborted, reason(anyPre.reason), anyPre === pre];
    const err = new Error('e');
    o.sameReason = AbortSignal.any([AbortSignal.abort(err)]).reason === err;

    const c1 = new AbortController();
    const c2 = new AbortController();
    const any = AbortSignal.any([c1.signal, c2.signal]);
    const nested = AbortSignal.any([any]);
    c1.signal.addEventListener('abort', () => log.push(['c1 listener', any.aborted, nested.aborted]));
    any.addEventListener('abort', (e) => log.push(['any listener', reason(any.reason), e.target === any, c1.signal.aborted]));
    nested.addEventListener('abort', () => log.push(['nested', reason(nested.reason)]));
    c2.signal.onabort = L('c2 onabort');
    c1.signal.onabort = () => log.push(['c1 onabort', any.aborted]);
    o.before = [any.aborted, nested.aborted];
    c1.abort('c1why');
    o.log = log.splice(0);
    o.after = [any.aborted, reason(any.reason), nested.aborted, reason(nested.reason)];
    c2.abort('c2why');
    o.log2 = log.splice(0);
    o.after2 = reason(any.reason);

    const d1 = new AbortController();
    const dup = AbortSignal.any([d1.signal, d1.signal]);
    dup.addEventListener('abort', L('dup'));
    d1.abort();
    o.duplicate = [dup.aborted, reason(dup.reason), log.splice(0)];

    {
      const c = new AbortController();
      const a = AbortSignal.any([c.signal]);
      c.signal.addEventListener('abort', () => { log.push(['source', a.aborted]); throw new Error('x'); });
      a.addEventListener('abort', L('dependent'));
      o.sourceThrows = [t(() => c.abort()), log.splice(0), a.aborted];
    }
    {
      const x1 = new AbortController();
      const x2 = new AbortController();
      const a = AbortSignal.any([x1.signal]);
      const b = AbortSignal.any([a, x2.signal]);
      const b2 = AbortSignal.any([a]);
      a.addEventListener('abort', L('a'));
      b.addEventListener('abort', L('b'));
      b2.addEventListener('abort', L('b2'));
      x1.abort('r1');
      o.flattened = [log.splice(0), b.reason, b2.reason];
    }
    {
      const x1 = new AbortController();
      const x2 = new AbortController();
      const a = AbortSignal.any([x1.signal, x2.signal]);
      x1.signal.addEventListener('abort', () => { log.push('x1'); x2.abort('r2'); });
      a.addEventListener('abort', () => log.push(['a', a.reason]));
      x2.signal.addEventListener('abort', L('x2'));
      x1.abort('r1');
      o.abortInsideSource = log.splice(0);
    }
    {
      const never = AbortSignal.any([]);
      const c = new AbortController();
      const a = AbortSignal.any([never, c.signal]);
      c.abort('z');
      o.withNever = [a.aborted, a.reason];
    }
    {
      const c = new AbortController();
      const a = AbortSignal.any([c.signal]);
      const et = new EventTarget();
      et.addEventListener('x', L('x'), { signal: a });
      c.abort();
      et.dispatchEvent(new Event('x'));
      o.dependentAsOption = log.splice(0);
    }
    o.errors = {
      noArg: t(() => AbortSignal.any()),
      number: t(() => AbortSignal.any(5)),
      object: t(() => AbortSignal.any({})),
      set: t(() => AbortSignal.any(new Set([new AbortController().signal]))),
      string: t(() => AbortSignal.any('ab')),
      badElement: t(() => AbortSignal.any([1])),
      badSecondElement: t(() => AbortSignal.any([new AbortController().signal, {}])),
      controller: t(() => AbortSignal.any([new AbortController()])),
    };
    return o;
  },

  '/request-signal'(request) {
    const o = {};
    o.incoming = [request.signal === request.signal, request.signal.aborted, request.signal instanceof AbortSignal,
      request.signal.reason === undefined, request.clone().signal === request.signal,
      new Request(request).signal === request.signal];
    const ac = new AbortController();
    const r1 = new Request('http://x/', { signal: ac.signal });
    o.given = [r1.signal === ac.signal, r1.clone().signal === ac.signal, new Request(r1).signal === ac.signal,
      new Request(r1, {}).signal === ac.signal, new Request(r1, { signal: undefined }).signal === ac.signal,
      new Request('http://y/', r1).signal === ac.signal];
    const r2 = new Request(r1, { signal: null });
    o.dropped = [r2.signal === ac.signal, r2.signal.aborted, r2.signal === r2.signal];
    const ac2 = new AbortController();
    o.replaced = new Request(r1, { signal: ac2.signal }).signal === ac2.signal;
    const r3 = new Request('http://x/');
    o.none = [r3.signal === r3.signal, r3.signal.aborted, r3.clone().signal === r3.signal, new Request(r3).signal === r3.signal];
    const never = AbortSignal.any([]);
    const r4 = new Request('http://x/', { signal: never });
    o.neverAborts = [r4.signal === never, r4.clone().signal === never, new Request(r4).signal === never];
    ac.abort('r');
    o.aborted = [r1.signal.aborted, r1.signal.reason, r1.clone().signal === ac.signal];
    o.abortedAtConstruction = t(() => new Request('http://x/', { signal: AbortSignal.abort('y') }).signal.reason);
    o.errors = {};
    for (const [k, v] of [['number', 5], ['object', {}], ['string', 'x'], ['target', new EventTarget()],
      ['controller', ac], ['false', false]]) {
      o.errors[k] = t(() => new Request('http://x/', { signal: v }));
    }
    o.errors.getterOnOther = t(() => Object.getOwnPropertyDescriptor(Request.prototype, 'signal').get.call({}));
    o.responseHasNone = 'signal' in new Response('x');
    return o;
  },

  '/clone'() {
    class MyEvent extends Event {}
    class MyTarget extends EventTarget {}
    return {
      event: t(() => structuredClone(new Event('x'))),
      custom: t(() => structuredClone(new CustomEvent('x', { detail: 1 }))),
      subclass: t(() => structuredClone(new MyEvent('x'))),
      target: t(() => structuredClone(new EventTarget())),
      targetSubclass: t(() => structuredClone(new MyTarget())),
      controller: t(() => structuredClone(new AbortController())),
      signal: t(() => structuredClone(new AbortController().signal)),
      aborted: t(() => structuredClone(AbortSignal.abort())),
      nested: t(() => structuredClone({ a: [new Event('x')] })),
    };
  },

  // An abort listener throwing out of abort() in the handler: an uncaught error.
  '/throwing-listener'() {
    const c = new AbortController();
    c.signal.addEventListener('abort', () => { throw new Error('uncaught from an abort listener'); });
    c.abort();
    return { unreachable: true };
  },
};

export default {
  fetch(request) {
    const path = new URL(request.url).pathname;
    const route = routes[path];
    if (!route) return new Response('no route', { status: 404 });
    return Response.json(route(request));
  },
};
