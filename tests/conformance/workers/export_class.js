// The default export is an object built by a class, with fetch as a method using state.
class App {
  constructor() {
    this.greeting = 'hello from a class';
  }
  fetch(request) {
    return new Response(`${this.greeting}: ${new URL(request.url).pathname}`, { headers: { 'x-app': this.constructor.name } });
  }
}
export default new App();
