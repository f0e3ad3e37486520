from wit_world import exports

class Math(exports.Math):
    def add(self, a: int, b: int) -> int:
        return a + b

    def join(self, words, sep):
        return sep.join(words)
