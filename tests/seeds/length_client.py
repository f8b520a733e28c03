# The client of the seed tutorial "Python实现TCP通信" (section 2.2, 客户端,
# shared/seeds/002_0ad0cac62b3f80d2.txt), copied so CI's clean checkout has it: it sends
# each line typed, then reads a 4-byte length header (struct 'i', little-endian on x86 and
# ARM) and that many bytes, and prints them.
# Changed from the original: the port comes from argv[1]; input ends at end of file (the
# tutorial loops forever on input()); the rest is the tutorial's code.
import socket
import struct
import sys

port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
client = socket.socket(family=socket.AF_INET, type=socket.SOCK_STREAM)
client.connect(('127.0.0.1', port))

while True:
    try:
        inp = input('>>>:').strip()
    except EOFError:
        break
    if len(inp) == 0:
        continue
    client.send(inp.encode('utf-8'))
    headers = client.recv(4)
    data_len = struct.unpack('i', headers)[0]
    count = 0
    while count < data_len:
        data = client.recv(1024)
        count += len(data)
        print(data.decode('utf-8'))

client.close()
