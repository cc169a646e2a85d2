import asyncio

clients = {}


async def broadcast(sender, text):
    for name, writer in clients.items():
        if name != sender:
            writer.write(f"{sender}: {text}\n".encode())
            await writer.drain()


async def handle(reader, writer):
    name = (await reader.readline()).decode().strip()
    clients[name] = writer
    await broadcast(name, "joined")
    async for line in reader:
        await broadcast(name, line.decode().strip())
    del clients[name]
    await broadcast(name, "left")
    writer.close()
    await writer.wait_closed()


async def client(port, name, lines, ready, go):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"{name}\n".encode())
    await writer.drain()
    ready.release()
    await go.wait()
    for line in lines:
        writer.write(f"{line}\n".encode())
        await writer.drain()
        await asyncio.sleep(0.01)
    return reader, writer


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    ready = asyncio.Semaphore(0)
    go = asyncio.Event()
    alice = asyncio.create_task(client(port, "alice", ["hi bob", "bye"], ready, go))
    await ready.acquire()
    await asyncio.sleep(0.01)
    bob = asyncio.create_task(client(port, "bob", [], ready, go))
    await ready.acquire()
    await asyncio.sleep(0.01)
    go.set()
    (ar, aw), (br, bw) = await asyncio.gather(alice, bob)
    await asyncio.sleep(0.01)
    aw.close()
    await aw.wait_closed()
    print("alice got:", (await ar.read()).decode().splitlines())
    bw.write_eof()
    print("bob got:", (await br.read()).decode().splitlines())
    bw.close()
    await bw.wait_closed()
    server.close()
    await server.wait_closed()
    print("clients left:", clients)


asyncio.run(main())
