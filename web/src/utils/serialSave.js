// Saves that must reach the server in the order they were made, where only the newest answer
// counts: the user's preferences (two quick language switches raced, and the first switch's late
// answer put the page back in the first language). serialSaver(send) gives save(arg): each call
// waits for the previous one to finish (failed or not) before it sends, and resolves to
// { value, newest } — value is send's answer, newest is false when a later save was made meanwhile
// (the caller then leaves that answer alone). A failed send rejects its own save only.
export function serialSaver(send) {
  let queue = Promise.resolve()
  let last = 0
  return async function save(arg) {
    const seq = ++last
    const run = queue.then(() => send(arg))
    queue = run.catch(() => {})
    const value = await run
    return { value, newest: seq === last }
  }
}
