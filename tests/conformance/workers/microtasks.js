// Ordering of queueMicrotask, promise reactions and await.
export default {
  async fetch() {
    const log = [];
    log.push('sync 1');
    queueMicrotask(() => log.push('micro 1'));
    Promise.resolve().then(() => log.push('then 1')).then(() => log.push('then 1b'));
    queueMicrotask(() => {
      log.push('micro 2');
      queueMicrotask(() => log.push('micro 2 nested'));
    });
    (async () => {
      log.push('async body');
      await null;
      log.push('after await');
    })();
    log.push('sync 2');
    await Promise.resolve();
    log.push('handler resumed');
    await new Promise((resolve) => queueMicrotask(resolve));
    log.push('handler resumed 2');
    let thrown;
    try {
      queueMicrotask('not a function');
    } catch (e) {
      thrown = e.name;
    }
    return Response.json({ log, thrown });
  },
};
