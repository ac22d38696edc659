"""Built-in type sets in Edgewise's compact notation (see edgewise.tosca.builtins)."""
