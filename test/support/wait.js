/** Polls `condition` until it holds; fails the test after `timeoutMs` instead of hanging. */
export async function waitFor(condition, timeoutMs = 5000, what = 'condition') {
    const started = Date.now();
    while (!(await condition())) {
        if (Date.now() - started > timeoutMs)
            throw new Error(`${what} not met within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 10));
    }
}
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
//# sourceMappingURL=wait.js.map