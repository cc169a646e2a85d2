import asyncio


async def sh(cmd):
    proc = await asyncio.create_subprocess_shell(
        cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, err = await proc.communicate()
    print(f"[{cmd!r} exited with {proc.returncode}]")
    if out:
        print(out.decode().rstrip())
    print("stderr is None:", err is None)


async def main():
    await sh("echo hello; echo world")
    await sh("ls /definitely/not/here >/dev/null 2>&1; exit 2")
    await sh("echo to-stderr 1>&2")
    proc = await asyncio.create_subprocess_shell(
        "tr a-z A-Z", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    proc.stdin.write(b"piped through tr\n")
    await proc.stdin.drain()
    proc.stdin.close()
    print((await proc.stdout.read()).decode().strip(), await proc.wait())
    slow = await asyncio.create_subprocess_shell("exec sleep 5")
    try:
        await asyncio.wait_for(slow.wait(), 0.05)
    except TimeoutError:
        slow.kill()
        print("killed after timeout:", await slow.wait())


asyncio.run(main())
