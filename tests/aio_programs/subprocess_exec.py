import asyncio
import sys


async def run(*args, input=None):
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", *args,
        stdin=asyncio.subprocess.PIPE if input is not None else None,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await proc.communicate(input)
    return proc.returncode, stdout.decode().strip(), stderr.decode().strip()


async def main():
    print(await run("print('hello from the child')"))
    print(await run("import sys; sys.stdout.write(sys.stdin.read()[::-1])", input=b"stressed"))
    print(await run("import sys; print('oops', file=sys.stderr); sys.exit(3)"))
    results = await asyncio.gather(*(run(f"print({i} * {i})") for i in range(4)))
    print([out for _, out, _ in results])

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "for i in range(3): print('line', i)",
        stdout=asyncio.subprocess.PIPE,
    )
    async for line in proc.stdout:
        print("streamed:", line.decode().rstrip())
    print("wait:", await proc.wait())

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import time; time.sleep(10)",
    )
    proc.terminate()
    print("terminated, returncode < 0:", await proc.wait() < 0)
    print("DEVNULL and STDOUT exist:", asyncio.subprocess.DEVNULL, asyncio.subprocess.STDOUT)


asyncio.run(main())
