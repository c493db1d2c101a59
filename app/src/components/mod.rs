pub mod failure;
pub mod form;
pub mod shell;
pub mod tabs;
