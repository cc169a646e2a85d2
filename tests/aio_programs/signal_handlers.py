import asyncio
import os
import signal


async def main():
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    received = []

    def on_signal(name):
        received.append(name)
        if len(received) == 2:
            stop.set()

    loop.add_signal_handler(signal.SIGUSR1, on_signal, "USR1")
    loop.add_signal_handler(signal.SIGUSR2, on_signal, "USR2")
    os.kill(os.getpid(), signal.SIGUSR1)
    await asyncio.sleep(0.01)
    os.kill(os.getpid(), signal.SIGUSR2)
    await asyncio.wait_for(stop.wait(), 5)
    print("received:", received)
    print("removed:", loop.remove_signal_handler(signal.SIGUSR1))
    print("removed twice:", loop.remove_signal_handler(signal.SIGUSR1))
    print("removed:", loop.remove_signal_handler(signal.SIGUSR2))


asyncio.run(main())
